"""The deployment checks catch what they claim to, and the release scripts refuse bad input.

validate-chart.sh --check runs kubernetes-validate, yamllint and checkov on one manifest: each
test feeds it a manifest with one known fault.
"""
import importlib.util
import subprocess
import textwrap

import pytest

from tests.container.chart_support import CI, DIGEST, ROOT

GOOD_POD_SPEC = """
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: registry.example.com/catsite@sha256:%s
          imagePullPolicy: Always
          securityContext:
            runAsNonRoot: true
            runAsUser: 10001
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            privileged: %s
            capabilities: {drop: [ALL]}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: "1", memory: 256Mi}
          livenessProbe: {httpGet: {path: /healthz, port: 8000}}
          readinessProbe: {httpGet: {path: /readyz, port: 8000}}
"""


def deployment(privileged=False, annotations=""):
    return textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: catsite
        %s
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata:
              labels: {app: web}
            spec:""") % annotations + GOOD_POD_SPEC % ("ab" * 32, str(privileged).lower()) + \
        textwrap.dedent("""\
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: web
          namespace: catsite
        spec:
          podSelector: {matchLabels: {app: web}}
          policyTypes: [Ingress]
        """)


def check(tmp_path, tools_env, manifest, kube_version="1.34.0"):
    path = tmp_path / "manifest.yaml"
    path.write_text(manifest)
    return subprocess.run([str(CI / "validate-chart.sh"), "--check", str(path), kube_version],
                          env=tools_env, capture_output=True, text=True)


def test_a_clean_manifest_passes(tmp_path, tools_env):
    result = check(tmp_path, tools_env, deployment())
    assert result.returncode == 0, result.stderr


def test_a_duplicate_key_fails(tmp_path, tools_env):
    manifest = deployment().replace("  name: web\n", "  name: web\n  name: other\n", 1)
    result = check(tmp_path, tools_env, manifest)
    assert result.returncode != 0
    assert "key-duplicates" in result.stderr


def test_an_api_version_the_cluster_does_not_serve_fails(tmp_path, tools_env):
    # policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25.
    manifest = textwrap.dedent("""\
        apiVersion: policy/v1beta1
        kind: PodDisruptionBudget
        metadata: {name: web, namespace: catsite}
        spec:
          maxUnavailable: 1
          selector: {matchLabels: {app: web}}
        """)
    result = check(tmp_path, tools_env, manifest, kube_version="1.30.0")
    assert result.returncode != 0
    assert "Couldn't find schema" in result.stderr


def test_a_privileged_container_fails_checkov(tmp_path, tools_env):
    result = check(tmp_path, tools_env, deployment(privileged=True))
    assert result.returncode != 0
    assert "CKV_K8S_16" in result.stderr  # "Container should not be privileged"


def test_a_checkov_skip_needs_a_reason(tmp_path, tools_env):
    skipped = deployment(privileged=True,
                         annotations='  annotations: {checkov.io/skip1: "CKV_K8S_16"}')
    result = check(tmp_path, tools_env, skipped)
    assert result.returncode != 0
    assert "has no reason" in result.stderr
    explained = deployment(privileged=True, annotations=(
        '  annotations: {checkov.io/skip1: "CKV_K8S_16=a test needs it"}'))
    # A skip with its reason is accepted by the script (checkov itself still counts other
    # checks a privileged container fails, so only the reason check is asserted here).
    assert "has no reason" not in check(tmp_path, tools_env, explained).stderr


def test_deploy_dry_run_pins_the_image_digest(tools_env):
    ref = f"registry.example.com/catsite@{DIGEST}"
    result = subprocess.run([str(CI / "deploy.sh"), "production", ref],
                            env={**tools_env, "DRY_RUN": "1", "MODEL_VERSION": "1.0.0"},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"image: {ref}" in result.stdout
    assert "NAMESPACE: catsite-production" in result.stdout


def test_deploy_pins_the_model_images_digest_from_the_push(tools_env, tmp_path):
    ref = f"registry.example.com/catsite@{DIGEST}"
    model_ref = f"registry.example.com/catsite-model@sha256:{'b' * 64}"
    (tmp_path / "model-image-ref").write_text(model_ref + "\n")
    result = subprocess.run(
        [str(CI / "deploy.sh"), "production", ref], capture_output=True, text=True,
        env={**tools_env, "DRY_RUN": "1", "MODEL_VERSION": "1.0.0",
             "MODEL_IMAGE_REF_FILE": str(tmp_path / "model-image-ref"),
             "HELM_EXTRA_ARGS": "--set inference.mode=service"})
    assert result.returncode == 0, result.stderr
    assert f"image: {model_ref}" in result.stdout
    bad = subprocess.run(
        [str(CI / "deploy.sh"), "production", ref], capture_output=True, text=True,
        env={**tools_env, "DRY_RUN": "1", "MODEL_VERSION": "1.0.0",
             "MODEL_IMAGE_REF": "registry.example.com/catsite-model:latest"})
    assert bad.returncode != 0
    assert "MODEL_IMAGE_REF must be" in bad.stderr


def test_deploy_passes_each_word_of_helm_extra_args_to_helm_unglobbed(tools_env, tmp_path):
    ref = f"registry.example.com/catsite@{DIGEST}"
    (tmp_path / "CAT_A").touch()  # a glob would expand CAT_* to this file name
    result = subprocess.run(
        [str(CI / "deploy.sh"), "staging", ref], cwd=tmp_path, capture_output=True, text=True,
        env={**tools_env, "DRY_RUN": "1", "MODEL_VERSION": "1.0.0",
             "HELM_EXTRA_ARGS": "--set-string config.extraEnv.CAT_PATTERN=CAT_*  "
                                "--set config.logLevel=DEBUG"},
    )
    assert result.returncode == 0, result.stderr
    assert 'CAT_PATTERN: "CAT_*"' in result.stdout
    assert 'LOG_LEVEL: "DEBUG"' in result.stdout


@pytest.mark.parametrize("ref", ["registry.example.com/catsite:latest",
                                 "registry.example.com/catsite@sha256:short"])
def test_deploy_refuses_an_image_without_a_digest(tools_env, ref):
    result = subprocess.run([str(CI / "deploy.sh"), "staging", ref],
                            env={**tools_env, "DRY_RUN": "1", "MODEL_VERSION": "1.0.0"},
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "IMAGE_REF must be" in result.stderr


@pytest.mark.parametrize("version", [None, "latest"])
def test_deploy_refuses_a_model_version_not_recorded_at_build_time(tools_env, tmp_path, version):
    ref = f"registry.example.com/catsite@{DIGEST}"
    env = {**tools_env, "DRY_RUN": "1", "MODEL_VERSION_FILE": str(tmp_path / "missing")}
    env.pop("MODEL_VERSION", None)
    if version:
        env["MODEL_VERSION"] = version
    result = subprocess.run([str(CI / "deploy.sh"), "staging", ref], env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "no model version recorded at build time" in result.stderr


def test_deploy_pins_the_model_version_recorded_at_build_time(tools_env, tmp_path):
    ref = f"registry.example.com/catsite@{DIGEST}"
    (tmp_path / "model-version").write_text("2.3.4\n")
    env = {**tools_env, "DRY_RUN": "1", "MODEL_VERSION_FILE": str(tmp_path / "model-version")}
    env.pop("MODEL_VERSION", None)
    result = subprocess.run([str(CI / "deploy.sh"), "staging", ref], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert '"2.3.4"' in result.stdout  # the init container's --version


def test_push_without_registry_is_a_clear_no_op(tmp_path, tools_env):
    ref_file = tmp_path / "image-ref"
    env = {**tools_env, "IMAGE_REF_FILE": str(ref_file)}
    env.pop("REGISTRY", None)
    result = subprocess.run([str(CI / "push-image.sh")], env=env, capture_output=True, text=True)
    assert result.returncode == 0
    assert "REGISTRY is not set" in result.stderr
    assert not ref_file.exists()


def load_healthcheck():
    spec = importlib.util.spec_from_file_location(
        "healthcheck", ROOT / "deploy" / "docker" / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("allowed, host", [
    ("catsite.example.com,www.example.com", "catsite.example.com"),
    (".example.com", "example.com"),
    ("*", "localhost"),
    ("", "localhost"),
])
def test_image_healthcheck_sends_an_allowed_host(allowed, host):
    assert load_healthcheck().probe_host(allowed) == host
