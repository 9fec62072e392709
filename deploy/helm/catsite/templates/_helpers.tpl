{{/* Names and labels shared by every template. */}}

{{- define "catsite.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "catsite.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "catsite.selectorLabels" -}}
app.kubernetes.io/name: {{ include "catsite.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "catsite.labels" -}}
{{ include "catsite.commonLabels" . }}
{{ include "catsite.selectorLabels" . }}
{{- end }}

{{- define "catsite.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: catsite
{{- end }}

{{/* The model service (inference.mode: service): its own name label, so the web Deployment's
     selector (name + instance) never matches its pods. */}}
{{- define "catsite.model.fullname" -}}
{{- printf "%s-model" (include "catsite.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "catsite.model.selectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-model" (include "catsite.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "catsite.model.labels" -}}
{{ include "catsite.commonLabels" . }}
{{ include "catsite.model.selectorLabels" . }}
app.kubernetes.io/component: model
{{- end }}

{{- define "catsite.serviceMode" -}}
{{- if eq .Values.inference.mode "service" }}true{{ end }}
{{- end }}

{{/* The web pods pull the model themselves: fetched at start, and no model service. */}}
{{- define "catsite.webFetchesModel" -}}
{{- if and .Values.model.fetchAtStart.enabled (not (include "catsite.serviceMode" .)) }}true{{ end }}
{{- end }}

{{/* The init container that pulls the model at pod start (model.fetchAtStart): verified
     (sha256) and switched into the shared volume before the app starts. In service mode the
     model pods run it, from their own image (the release pins it by digest too), and the web
     pods need no model. */}}
{{- define "catsite.fetchModelInitContainer" -}}
- name: fetch-model
  image: {{ if include "catsite.serviceMode" . }}{{ include "catsite.model.image" . }}{{ else }}{{ include "catsite.image" . }}{{ end }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: [python, manage.py, fetch_model, --version, {{ .Values.model.fetchAtStart.version | quote }}]
  envFrom:
    {{- include "catsite.envFrom" (dict "configMap" (include "catsite.fullname" .) "secret" (include "catsite.secretName" .)) | nindent 4 }}
    {{- with .Values.model.fetchAtStart.storeSecret }}
    {{- /* The model store's credentials: this container only, never the web or model ones. */}}
    - secretRef:
        name: {{ . }}
    {{- end }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml .Values.model.fetchAtStart.resources | nindent 4 }}
  volumeMounts:
    - {name: model, mountPath: {{ include "catsite.modelDir" . }}}
    - {name: tmp, mountPath: /tmp}
    {{- include "catsite.signingKeysMount" . | nindent 4 }}
{{- end }}

{{/* The trusted model-signing keys: a read-only mount (and its volume) for every container
that installs or loads a model. Empty when model.trustedKeys is. */}}
{{- define "catsite.signingKeysMount" -}}
{{- if .Values.model.trustedKeys }}
- {name: signing-keys, mountPath: {{ include "catsite.trustedKeysDir" . }}, readOnly: true}
{{- end }}
{{- end }}
{{- define "catsite.signingKeysVolume" -}}
{{- if .Values.model.trustedKeys }}
- name: signing-keys
  configMap:
    name: {{ include "catsite.fullname" . }}-signing-keys
{{- end }}
{{- end }}

{{- define "catsite.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "catsite.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository@digest when a digest is given (pinned), else repository:tag. */}}
{{- define "catsite.image" -}}
{{- include "catsite.imageRef" (dict "image" .Values.image "root" .) }}
{{- end }}

{{/* The model service's image (inference.service.image: the Dockerfile's `model` target). */}}
{{- define "catsite.model.image" -}}
{{- include "catsite.imageRef" (dict "image" .Values.inference.service.image "root" .) }}
{{- end }}

{{/* repository@digest, else repository:tag (default: the chart's appVersion). */}}
{{- define "catsite.imageRef" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{- define "catsite.secretName" -}}
{{- default (include "catsite.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/* The model directory the app reads: the shared volume when fetched at start, else the
     image's own (MODEL_DIR is set in the image, so nothing is overridden). */}}
{{- define "catsite.modelDir" -}}
{{- .Values.model.fetchAtStart.mountPath }}
{{- end }}

{{/* Non-secret settings, shared by the app's ConfigMap and the migration hook's copy. */}}
{{- define "catsite.configData" -}}
DJANGO_ALLOWED_HOSTS: {{ join "," .Values.config.allowedHosts | quote }}
DJANGO_CSRF_TRUSTED_ORIGINS: {{ join "," .Values.config.csrfTrustedOrigins | quote }}
DJANGO_HTTPS: {{ ternary "1" "0" .Values.config.https | quote }}
DJANGO_DEBUG: "0"
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
LOG_FORMAT: {{ .Values.config.logFormat | quote }}
{{- /* In service mode the web pods stay ready while the model service is down: pages keep
       working and identification answers 503 (/readyz still shows the service's state). */}}
MODEL_REQUIRED: {{ ternary "1" "0" (and .Values.model.required (not (include "catsite.serviceMode" .))) | quote }}
WEB_CONCURRENCY: {{ .Values.gunicorn.workers | quote }}
GUNICORN_THREADS: {{ .Values.gunicorn.threads | quote }}
GUNICORN_TIMEOUT: {{ .Values.gunicorn.timeout | quote }}
PORT: {{ .Values.containerPort | quote }}
METRICS_PORT: {{ .Values.metrics.port | quote }}
{{- if .Values.media.azure.container }}
AZURE_MEDIA_CONTAINER: {{ .Values.media.azure.container | quote }}
AZURE_ACCOUNT_NAME: {{ .Values.media.azure.accountName | quote }}
SERVE_MEDIA: "0"
{{- end }}
{{- if .Values.feedback.azure.container }}
FEEDBACK_AZURE_CONTAINER: {{ .Values.feedback.azure.container | quote }}
{{- if not .Values.media.azure.container }}
AZURE_ACCOUNT_NAME: {{ .Values.media.azure.accountName | quote }}
{{- end }}
{{- end }}
{{- if .Values.model.fetchAtStart.enabled }}
MODEL_DIR: {{ include "catsite.modelDir" . | quote }}
{{- end }}
{{- if .Values.model.trustedKeys }}
MODEL_TRUSTED_KEYS: {{ include "catsite.trustedKeyPaths" . | quote }}
{{- end }}
{{- if .Values.model.allowUnsigned }}
MODEL_ALLOW_UNSIGNED: "1"
{{- end }}
{{- with .Values.model.minVersion }}
MODEL_MIN_VERSION: {{ . | quote }}
{{- end }}
{{- if .Values.model.challenger.enabled }}
MODEL_CHALLENGER_DIR: {{ .Values.model.challenger.mountPath | quote }}
MODEL_SHADOW_RATE: {{ .Values.model.challenger.shadowRate | quote }}
{{- end }}
{{- if include "catsite.serviceMode" . }}
INFERENCE_URL: {{ printf "http://%s:%v" (include "catsite.model.fullname" .) .Values.inference.service.port | quote }}
MODEL_NAME: {{ required "inference.service.modelName: the name of the model package the service serves" .Values.inference.service.modelName | quote }}
INFERENCE_TIMEOUT: {{ .Values.inference.service.timeoutSeconds | quote }}
INFERENCE_RETRIES: {{ .Values.inference.service.retries | quote }}
{{- end }}
{{- range $key, $value := .Values.config.extraEnv }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* Secret settings (base64), shared by the app's Secret and the migration hook's copy. */}}
{{- define "catsite.secretData" -}}
{{- range $key, $value := .Values.secret.data }}
{{ $key }}: {{ $value | toString | b64enc | quote }}
{{- end }}
{{- end }}

{{/* The `data:` block of a Secret: an empty map rather than null when there are no values. */}}
{{- define "catsite.secretDataBlock" -}}
{{- $data := include "catsite.secretData" . }}
{{- if $data }}
data:
  {{- $data | nindent 2 }}
{{- else }}
data: {}
{{- end }}
{{- end }}

{{/* Environment of every container running the app's code (app, migrations, model fetch). */}}
{{- define "catsite.envFrom" -}}
- configMapRef:
    name: {{ .configMap }}
- secretRef:
    name: {{ .secret }}
{{- end }}

{{/* Pod-level settings shared by the Deployment and the migration Job. */}}
{{- define "catsite.podCommon" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod labels: selector labels, plus the label Azure workload identity's webhook looks for. */}}
{{- define "catsite.podLabels" -}}
{{ include "catsite.labels" . }}
app.kubernetes.io/component: web
{{- if .Values.serviceAccount.workloadIdentity.enabled }}
azure.workload.identity/use: "true"
{{- end }}
{{- with .Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* A host name Django accepts: the first allowed host (".example.com" -> "example.com"). */}}
{{- define "catsite.probeHost" -}}
{{- $host := first .Values.config.allowedHosts | trimPrefix "." }}
{{- ternary "localhost" $host (eq $host "*") }}
{{- end }}

{{/* Probe: an HTTP GET with the Host header Django accepts. */}}
{{- define "catsite.httpProbe" -}}
httpGet:
  path: {{ .probe.path }}
  port: http
  httpHeaders:
    - name: Host
      value: {{ include "catsite.probeHost" .root | quote }}
{{- with .probe.initialDelaySeconds }}
initialDelaySeconds: {{ . }}
{{- end }}
periodSeconds: {{ .probe.periodSeconds }}
timeoutSeconds: {{ default 3 .probe.timeoutSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
{{- end }}

{{/* checkov skips that apply to every workload, each with its reason (see README "Deploying"). */}}
{{- define "catsite.checkovSkips" -}}
checkov.io/skip1: "CKV_K8S_35=Django reads its settings from environment variables only (12-factor); the Secret is injected with envFrom, never baked into the image."
{{- end }}

{{/* The Deployment's skips: the common ones, plus the token that workload identity needs. */}}
{{- define "catsite.deploymentCheckovSkips" -}}
{{ include "catsite.checkovSkips" . }}
{{- if .Values.serviceAccount.workloadIdentity.enabled }}
checkov.io/skip2: "CKV_K8S_38=Azure workload identity exchanges the projected service account token for an Azure AD token, so the token must be mounted; the ServiceAccount has no RBAC bindings."
{{- end }}
{{- end }}

{{/* Where the trusted model-signing keys are mounted, and their paths for MODEL_TRUSTED_KEYS. */}}
{{- define "catsite.trustedKeysDir" -}}/etc/catsite/signing-keys{{- end }}
{{- define "catsite.trustedKeyPaths" -}}
{{- $dir := include "catsite.trustedKeysDir" . -}}
{{- $paths := list -}}
{{- range $name, $_ := .Values.model.trustedKeys }}{{ $paths = append $paths (printf "%s/%s" $dir $name) }}{{ end -}}
{{- join "," $paths -}}
{{- end }}
