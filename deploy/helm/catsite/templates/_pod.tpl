{{/* The web pods' template, one definition for the Deployment and the Rollout
     (rollout.enabled): metadata and spec of a PodTemplateSpec. */}}
{{- define "catsite.webPodTemplate" -}}
metadata:
  labels:
    {{- include "catsite.podLabels" . | nindent 4 }}
  annotations:
    # A change of settings rolls the pods, which read them only at start.
    checksum/config: {{ include "catsite.configData" . | sha256sum }}
    checksum/secret: {{ include "catsite.secretData" . | sha256sum }}
    {{- if .Values.metrics.scrapeAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ .Values.metrics.port | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "catsite.serviceAccountName" . }}
  # Only workload identity needs an API token (the webhook projects it).
  automountServiceAccountToken: {{ .Values.serviceAccount.workloadIdentity.enabled }}
  {{- include "catsite.podCommon" . | nindent 2 }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  {{- if or (include "catsite.webFetchesModel" .) .Values.model.challenger.enabled }}
  initContainers:
  {{- end }}
  {{- if include "catsite.webFetchesModel" . }}
    {{- include "catsite.fetchModelInitContainer" . | nindent 4 }}
  {{- end }}
  {{- if .Values.model.challenger.enabled }}
    # The challenger scored in the shadow (MODEL_CHALLENGER_DIR), fetched the same way into
    # a second folder.
    - name: fetch-challenger
      image: {{ include "catsite.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      command: [python, manage.py, fetch_model, --version, {{ .Values.model.challenger.version | quote }}, --dest, {{ .Values.model.challenger.mountPath | quote }}]
      envFrom:
        {{- include "catsite.envFrom" (dict "configMap" (include "catsite.fullname" .) "secret" (include "catsite.secretName" .)) | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      resources:
        {{- toYaml .Values.model.fetchAtStart.resources | nindent 8 }}
      volumeMounts:
        - {name: challenger, mountPath: {{ .Values.model.challenger.mountPath }}}
        - {name: tmp, mountPath: /tmp}
  {{- end }}
  containers:
    - name: web
      image: {{ include "catsite.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      ports:
        - name: http
          containerPort: {{ .Values.containerPort }}
          protocol: TCP
        # Prometheus metrics (METRICS_PORT), never routed by the ingress.
        - name: metrics
          containerPort: {{ .Values.metrics.port }}
          protocol: TCP
      envFrom:
        {{- include "catsite.envFrom" (dict "configMap" (include "catsite.fullname" .) "secret" (include "catsite.secretName" .)) | nindent 8 }}
      env:
        # Prometheus scrapes the pod by its IP (the Host header): Django allows it.
        - name: POD_IP
          valueFrom:
            fieldRef: {fieldPath: status.podIP}
      startupProbe:
        {{- include "catsite.httpProbe" (dict "root" . "probe" .Values.probes.startup) | nindent 8 }}
      livenessProbe:
        {{- include "catsite.httpProbe" (dict "root" . "probe" .Values.probes.liveness) | nindent 8 }}
      readinessProbe:
        {{- include "catsite.httpProbe" (dict "root" . "probe" .Values.probes.readiness) | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      volumeMounts:
        - {name: tmp, mountPath: /tmp}
        {{- if not .Values.media.azure.container }}
        - {name: media, mountPath: /app/var/media}
        {{- end }}
        {{- if not .Values.feedback.azure.container }}
        - {name: feedback-photos, mountPath: /app/var/feedback-photos}
        {{- end }}
        {{- if include "catsite.webFetchesModel" . }}
        - {name: model, mountPath: {{ include "catsite.modelDir" . }}, readOnly: true}
        {{- end }}
        {{- include "catsite.signingKeysMount" . | nindent 8 }}
        {{- if .Values.model.challenger.enabled }}
        - {name: challenger, mountPath: {{ .Values.model.challenger.mountPath }}, readOnly: true}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ .Values.tmpSizeLimit }}
    {{- if not .Values.media.azure.container }}
    - name: media
      emptyDir:
        sizeLimit: {{ .Values.media.emptyDirSizeLimit }}
    {{- end }}
    {{- if not .Values.feedback.azure.container }}
    - name: feedback-photos
      emptyDir:
        sizeLimit: {{ .Values.feedback.emptyDirSizeLimit }}
    {{- end }}
    {{- if include "catsite.webFetchesModel" . }}
    - name: model
      emptyDir:
        sizeLimit: {{ .Values.model.fetchAtStart.sizeLimit }}
    {{- end }}
    {{- include "catsite.signingKeysVolume" . | nindent 4 }}
    {{- if .Values.model.challenger.enabled }}
    - name: challenger
      emptyDir:
        sizeLimit: {{ .Values.model.fetchAtStart.sizeLimit }}
    {{- end }}
  {{- if .Values.topologySpread.enabled }}
  topologySpreadConstraints:
    {{- range .Values.topologySpread.topologyKeys }}
    - maxSkew: {{ $.Values.topologySpread.maxSkew }}
      topologyKey: {{ . }}
      whenUnsatisfiable: {{ $.Values.topologySpread.whenUnsatisfiable }}
      labelSelector:
        matchLabels:
          {{- include "catsite.selectorLabels" $ | nindent 10 }}
    {{- end }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
