"""The Helm chart renders what the deployment needs, for each environment and option."""
import subprocess

import pytest

from tests.container.chart_support import CHART, DIGEST, by_kind, one


def pod_spec(objects):
    return one(objects, "Deployment")["spec"]["template"]["spec"]


def app_config(objects):
    """The app's settings ConfigMap (the other one holds the trusted model-signing keys)."""
    found = [c for c in by_kind(objects, "ConfigMap")
             if not c["metadata"]["name"].endswith("-model-keys")]
    assert len(found) == 1, f"expected one settings ConfigMap, found {len(found)}"
    return found[0]


def env_names(objects):
    return set(app_config(objects)["data"]) if by_kind(objects, "ConfigMap") else set()


def test_default_deployment_is_hardened_and_probed(render):
    objects = render()
    spec = pod_spec(objects)
    web = spec["containers"][0]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert web["securityContext"]["readOnlyRootFilesystem"] is True
    assert web["securityContext"]["allowPrivilegeEscalation"] is False
    assert web["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # Django refuses the pod IP as a host: the probes name an allowed host.
    assert web["readinessProbe"]["httpGet"]["httpHeaders"] == [
        {"name": "Host", "value": "catsite.local"}]
    assert {m["mountPath"] for m in web["volumeMounts"]} >= {"/tmp"}
    assert web["resources"]["limits"]["memory"]
    assert spec["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    assert spec["automountServiceAccountToken"] is False


def test_image_by_digest_wins_over_tag(render):
    assert pod_spec(render())["containers"][0]["image"] == "catsite:0.1.0"
    assert pod_spec(render("--set", "image.tag=abc"))["containers"][0]["image"] == "catsite:abc"
    pinned = render("--set", "image.tag=abc", "--set", f"image.digest={DIGEST}")
    assert pod_spec(pinned)["containers"][0]["image"] == f"catsite@{DIGEST}"


def test_a_malformed_digest_is_refused_by_the_schema(render):
    with pytest.raises(AssertionError, match="digest"):
        render("--set", "image.digest=latest")


def test_migrations_run_as_a_pre_upgrade_hook_with_their_own_settings_copy(render):
    objects = render("--set-string", "secret.data.DJANGO_SECRET_KEY=s3cret")
    job = one(objects, "Job", hooks=True)
    hooks = job["metadata"]["annotations"]["helm.sh/hook"]
    assert hooks == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python", "manage.py", "migrate", "--noinput"]
    # Hooks run before the release's ConfigMap/Secret exist: the Job reads hook copies that
    # are created first (lower weight).
    refs = job["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    names = {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in refs}
    hook_copies = [obj for obj in objects
                   if obj["metadata"]["name"] in names and obj["kind"] != "Job"]
    assert {obj["kind"] for obj in hook_copies} == {"ConfigMap", "Secret"}
    for obj in hook_copies:
        assert int(obj["metadata"]["annotations"]["helm.sh/hook-weight"]) < 0


def test_existing_secret_replaces_the_chart_secret(render):
    objects = render("--set", "secret.existingSecret=from-key-vault")
    assert not by_kind(objects, "Secret")
    refs = pod_spec(objects)["containers"][0]["envFrom"]
    assert {"secretRef": {"name": "from-key-vault"}} in refs


def test_fetch_at_start_adds_an_init_container_sharing_the_model_volume(render):
    objects = render("--set", "model.fetchAtStart.enabled=true",
                     "--set", "model.fetchAtStart.version=1.2.0")
    spec = pod_spec(objects)
    init = spec["initContainers"][0]
    assert init["command"] == ["python", "manage.py", "fetch_model", "--version", "1.2.0"]
    assert app_config(objects)["data"]["MODEL_DIR"] == "/models"
    mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
    assert mounts["model"]["mountPath"] == "/models" and mounts["model"]["readOnly"] is True
    assert {"name": "model", "mountPath": "/models"} in init["volumeMounts"]
    assert any(v["name"] == "model" and "emptyDir" in v for v in spec["volumes"])


def test_baked_model_has_no_init_container_and_no_model_dir_override(render):
    objects = render()
    assert "initContainers" not in pod_spec(objects)
    assert "MODEL_DIR" not in env_names(objects)


def test_workload_identity_annotates_the_account_and_labels_the_pods(render):
    objects = render("--set", "serviceAccount.workloadIdentity.enabled=true",
                     "--set-string", "serviceAccount.workloadIdentity.clientId=1234")
    account = one(objects, "ServiceAccount")
    assert account["metadata"]["annotations"]["azure.workload.identity/client-id"] == "1234"
    pod_labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["azure.workload.identity/use"] == "true"
    assert pod_spec(objects)["automountServiceAccountToken"] is True


def test_production_values_autoscale_with_a_budget_tls_and_azure_media(render):
    objects = render("-f", str(CHART / "values-production.yaml"))
    assert "replicas" not in one(objects, "Deployment")["spec"]  # the HPA owns it
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["minReplicas"] == 3
    budget = one(objects, "PodDisruptionBudget")["spec"]
    assert budget["minAvailable"] == 2 and "maxUnavailable" not in budget
    ingress = one(objects, "Ingress")
    assert ingress["spec"]["tls"][0]["secretName"] == "catsite-tls"
    config = app_config(objects)["data"]
    assert config["AZURE_MEDIA_CONTAINER"] == "media" and config["SERVE_MEDIA"] == "0"
    assert config["DJANGO_HTTPS"] == "1"
    # Media live in Azure: no local media volume.
    assert "media" not in {v["name"] for v in pod_spec(objects)["volumes"]}


def test_staging_values_pull_the_model_at_start(render):
    objects = render("-f", str(CHART / "values-staging.yaml"))
    assert pod_spec(objects)["initContainers"][0]["name"] == "fetch-model"
    assert not by_kind(objects, "HorizontalPodAutoscaler")


@pytest.mark.parametrize("kube_version", ["1.30.0", "1.34.0"])
def test_both_kubernetes_versions_render(render, kube_version):
    kinds = {obj["kind"] for obj in render(kube_version=kube_version)}
    assert {"Deployment", "Service", "ConfigMap", "Secret", "ServiceAccount", "Job",
            "PodDisruptionBudget", "NetworkPolicy"} <= kinds


def test_helm_lint_strict_passes(tools_env):
    result = subprocess.run(["helm", "lint", "--strict", str(CHART)], env=tools_env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_trusted_model_keys_are_mounted_into_the_web_and_fetch_containers(render):
    objects = render("--set", "model.fetchAtStart.enabled=true")
    keys = [c for c in by_kind(objects, "ConfigMap")
            if c["metadata"]["name"].endswith("-model-keys")]
    assert len(keys) == 1
    project_key = (CHART.parents[2] / "deploy" / "keys" / "catsite-models-2026-12.pub").read_text()
    assert keys[0]["data"] == {"catsite-models-2026-12.pub": project_key}  # the repository's key
    assert app_config(objects)["data"]["MODEL_TRUSTED_KEYS"] == (
        "/etc/catsite/model-keys/catsite-models-2026-12.pub")
    spec = pod_spec(objects)
    for container in (*spec["containers"], *spec["initContainers"]):
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        assert mounts["model-keys"] == {
            "name": "model-keys", "mountPath": "/etc/catsite/model-keys", "readOnly": True}
    assert {"name": "model-keys", "configMap": {"name": keys[0]["metadata"]["name"]}} in (
        spec["volumes"])


def test_without_trusted_keys_nothing_is_mounted(render):
    objects = render("--set", "model.trustedKeys=null")
    assert "MODEL_TRUSTED_KEYS" not in env_names(objects)
    assert all(v["name"] != "model-keys" for v in pod_spec(objects)["volumes"])


def test_the_store_secret_reaches_the_fetch_container_only(render):
    objects = render("--set", "model.fetchAtStart.enabled=true",
                     "--set", "model.fetchAtStart.storeSecret=catsite-model-store")
    spec = pod_spec(objects)
    secrets = {c["name"]: [e["secretRef"]["name"] for e in c["envFrom"] if "secretRef" in e]
               for c in (*spec["containers"], *spec["initContainers"])}
    assert "catsite-model-store" in secrets["fetch-model"]
    assert "catsite-model-store" not in secrets["web"]
