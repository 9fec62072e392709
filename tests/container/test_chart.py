"""The Helm chart renders what the deployment needs, for each environment and option."""
import subprocess

import pytest

from tests.container.chart_support import CHART, DIGEST, by_kind, one


def pod_spec(objects):
    return one(objects, "Deployment")["spec"]["template"]["spec"]


def app_config(objects):
    """The app's settings ConfigMap (the other one holds the trusted model-signing keys)."""
    found = [c for c in by_kind(objects, "ConfigMap")
             if not c["metadata"]["name"].endswith("-signing-keys")]
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


def test_the_model_image_has_its_own_repository_and_tag(render):
    objects = render("--set", "inference.mode=service", "--set", "image.tag=abc",
                     "--set", "inference.service.image.repository=registry.example.com/model",
                     "--set", "inference.service.image.tag=def")
    model = named(objects, "Deployment", "catsite-model")["spec"]["template"]["spec"]
    assert model["containers"][0]["image"] == "registry.example.com/model:def"
    web = named(objects, "Deployment", "catsite")["spec"]["template"]["spec"]
    assert web["containers"][0]["image"] == "catsite:abc"


def test_a_malformed_digest_is_refused_by_the_schema(render):
    with pytest.raises(AssertionError, match="digest"):
        render("--set", "image.digest=latest")


def test_migrations_run_as_a_pre_upgrade_hook_with_their_own_settings_copy(render):
    objects = render("--set-string", "secret.data.DJANGO_SECRET_KEY=s3cret")
    job = one(objects, "Job", hooks=True)
    hooks = job["metadata"]["annotations"]["helm.sh/hook"]
    assert hooks == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "sh", "-c", "python manage.py migrate --noinput && python manage.py load_species"]
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
    objects = render("-f", str(CHART / "values-production.yaml"),
                     "--set", "model.fetchAtStart.enabled=true")
    keys = [c for c in by_kind(objects, "ConfigMap")
            if c["metadata"]["name"].endswith("-signing-keys")]
    assert len(keys) == 1
    project_key = (CHART.parents[2] / "deploy" / "keys" / "catsite-models-2026-12.pub").read_text()
    assert keys[0]["data"] == {"catsite-models-2026-12.pub": project_key}  # the repository's key
    assert app_config(objects)["data"]["MODEL_TRUSTED_KEYS"] == (
        "/etc/catsite/signing-keys/catsite-models-2026-12.pub")
    spec = pod_spec(objects)
    for container in (*spec["containers"], *spec["initContainers"]):
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        assert mounts["signing-keys"] == {
            "name": "signing-keys", "mountPath": "/etc/catsite/signing-keys", "readOnly": True}
    assert {"name": "signing-keys", "configMap": {"name": keys[0]["metadata"]["name"]}} in (
        spec["volumes"])


def test_without_trusted_keys_nothing_is_mounted(render):
    objects = render()  # the default values: a locally built, unsigned model
    assert "MODEL_TRUSTED_KEYS" not in env_names(objects)
    assert all(v["name"] != "signing-keys" for v in pod_spec(objects)["volumes"])


def test_unsigned_serving_and_the_version_floor_are_only_what_the_values_say(render):
    """Issue 24 items 9 and 10: without trusted keys the pods refuse to start unless the values
    allow unsigned models deliberately; staging and production never do."""
    assert not {"MODEL_ALLOW_UNSIGNED", "MODEL_MIN_VERSION"} & env_names(render())
    for values in ("values-staging.yaml", "values-production.yaml"):
        assert "MODEL_ALLOW_UNSIGNED" not in env_names(render("-f", str(CHART / values)))
    data = app_config(render("--set", "model.allowUnsigned=true",
                             "--set", "model.minVersion=2.0.0"))["data"]
    assert (data["MODEL_ALLOW_UNSIGNED"], data["MODEL_MIN_VERSION"]) == ("1", "2.0.0")


def test_staging_and_production_trust_the_projects_key_in_the_model_service_too(render):
    for values in ("values-staging.yaml", "values-production.yaml"):
        objects = render("-f", str(CHART / values), "--set", "inference.mode=service")
        model = [d for d in by_kind(objects, "Deployment")
                 if d["metadata"]["name"].endswith("-model")][0]
        mounts = [m["name"] for m in model["spec"]["template"]["spec"]["containers"][0][
            "volumeMounts"]]
        assert "signing-keys" in mounts, values


def test_the_store_secret_reaches_the_fetch_container_only(render):
    objects = render("--set", "model.fetchAtStart.enabled=true",
                     "--set", "model.fetchAtStart.storeSecret=catsite-model-store")
    spec = pod_spec(objects)
    secrets = {c["name"]: [e["secretRef"]["name"] for e in c["envFrom"] if "secretRef" in e]
               for c in (*spec["containers"], *spec["initContainers"])}
    assert "catsite-model-store" in secrets["fetch-model"]
    assert "catsite-model-store" not in secrets["web"]


def named(objects, kind, name):
    found = [obj for obj in by_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def selects(selector: dict, labels: dict) -> bool:
    """Whether a selector (a Service's map, or a matchLabels one) matches these labels."""
    match = selector.get("matchLabels", selector)
    return all(labels.get(key) == value for key, value in match.items())


def test_embedded_mode_has_no_model_service(render):
    objects = render()
    assert all("model" not in obj["metadata"]["name"] for obj in objects)
    assert "INFERENCE_URL" not in env_names(objects)
    assert app_config(objects)["data"]["MODEL_REQUIRED"] == "1"


def test_service_mode_runs_the_model_in_its_own_deployment_behind_a_service(render):
    objects = render("--set", "inference.mode=service",
                     "--set", f"inference.service.image.digest={DIGEST}")
    web = named(objects, "Deployment", "catsite")
    model = named(objects, "Deployment", "catsite-model")
    model_pod = model["spec"]["template"]
    container = model_pod["spec"]["containers"][0]
    assert container["args"] == ["model", "--port", "8080"]
    # The model image (the Dockerfile's `model` target, with KServe); the web pods keep the
    # web image, which has none.
    assert container["image"] == f"catsite-model@{DIGEST}"
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "catsite:0.1.0"
    assert container["ports"][0]["containerPort"] == 8080
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    # Ready when the model is: the server's /v2/health/ready stays true without one.
    assert container["readinessProbe"]["httpGet"]["path"] == (
        "/v2/models/efficientnet-lite0-imagenet/ready")
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    # The web Deployment never adopts model pods, and the other way round.
    model_labels = model_pod["metadata"]["labels"]
    web_labels = web["spec"]["template"]["metadata"]["labels"]
    assert not selects(web["spec"]["selector"], model_labels)
    assert not selects(model["spec"]["selector"], web_labels)
    assert selects(model["spec"]["selector"], model_labels)
    # The web pods call the model's Service, load no model and stay ready without it.
    service = named(objects, "Service", "catsite-model")
    assert service["spec"]["ports"][0]["port"] == 8080
    assert service["spec"]["selector"] == model["spec"]["selector"]["matchLabels"]
    config = app_config(objects)["data"]
    assert config["INFERENCE_URL"] == "http://catsite-model:8080"
    assert config["INFERENCE_TIMEOUT"] == "10" and config["INFERENCE_RETRIES"] == "1"
    # The web pods ask for the model the probe waits for.
    assert config["MODEL_NAME"] == "efficientnet-lite0-imagenet"
    renamed = render("--set", "inference.mode=service", "--set",
                     "inference.service.modelName=cats-v2")
    probe = named(renamed, "Deployment", "catsite-model")["spec"]["template"]["spec"][
        "containers"][0]["readinessProbe"]
    assert probe["httpGet"]["path"] == "/v2/models/cats-v2/ready"
    assert app_config(renamed)["data"]["MODEL_NAME"] == "cats-v2"
    assert config["MODEL_REQUIRED"] == "0"
    # Scaled and protected on its own.
    hpa = named(objects, "HorizontalPodAutoscaler", "catsite-model")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "catsite-model"
    assert "replicas" not in model["spec"]
    budget = named(objects, "PodDisruptionBudget", "catsite-model")
    assert selects(budget["spec"]["selector"], model_labels)
    assert not selects(budget["spec"]["selector"], web_labels)


def test_service_mode_admits_only_the_web_pods_to_the_model(render):
    objects = render("--set", "inference.mode=service")
    policy = named(objects, "NetworkPolicy", "catsite-model")["spec"]
    model_labels = pod_labels_of(objects, "catsite-model")
    web_labels = pod_labels_of(objects, "catsite")
    migration_labels = one(objects, "Job", hooks=True)["spec"]["template"]["metadata"]["labels"]
    assert selects(policy["podSelector"], model_labels)
    assert policy["policyTypes"] == ["Ingress"]
    (rule,) = policy["ingress"]
    (source,) = rule["from"]
    assert set(source) == {"podSelector"}  # pods of this namespace only
    assert selects(source["podSelector"], web_labels)
    assert not selects(source["podSelector"], migration_labels)
    assert not selects(source["podSelector"], model_labels)
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]


def test_service_mode_fetches_the_model_in_the_model_pods_only(render):
    objects = render("--set", "inference.mode=service", "--set", "model.fetchAtStart.enabled=true",
                     "--set", f"inference.service.image.digest={DIGEST}")
    assert "initContainers" not in pod_spec_of(objects, "catsite")
    model_spec = pod_spec_of(objects, "catsite-model")
    fetch = model_spec["initContainers"][0]
    assert fetch["name"] == "fetch-model"
    # The model pods fetch from their own image: one image, pinned by one digest, per pod.
    assert fetch["image"] == model_spec["containers"][0]["image"] == f"catsite-model@{DIGEST}"
    assert any(v["name"] == "model" for v in model_spec["volumes"])
    assert not any(v["name"] == "model" for v in pod_spec_of(objects, "catsite")["volumes"])


def test_service_mode_without_autoscaling_sets_the_replicas(render):
    objects = render("--set", "inference.mode=service",
                     "--set", "inference.service.autoscaling.enabled=false",
                     "--set", "inference.service.replicaCount=3")
    assert named(objects, "Deployment", "catsite-model")["spec"]["replicas"] == 3
    assert not [h for h in by_kind(objects, "HorizontalPodAutoscaler")
                if h["metadata"]["name"] == "catsite-model"]


def test_an_unknown_inference_mode_is_refused_by_the_schema(render):
    with pytest.raises(AssertionError, match="mode"):
        render("--set", "inference.mode=remote")


def pod_spec_of(objects, name):
    return named(objects, "Deployment", name)["spec"]["template"]["spec"]


def pod_labels_of(objects, name):
    return named(objects, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
