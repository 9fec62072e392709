"""deploy/ci/kube_play.py: a rendered release adapted to what `podman kube play` runs here
(deploy/ci/play-chart.sh plays it for real in the container pipeline)."""
import pytest

from tests.container.chart_support import ci_script

# A script beside the CI shell scripts, not a package: loaded from its file.
kube_play = ci_script("kube_play")


@pytest.fixture(scope="module")
def played(render):
    objects = render("--set", "inference.mode=service", "--set", "model.fetchAtStart.enabled=true",
                     "--set", "inference.service.port=18080",
                     "--set-string", "secret.data.DJANGO_SECRET_KEY=s3cret")
    return kube_play.adapt(objects)


def by_name(documents, kind, name):
    (found,) = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def test_only_config_maps_and_deployments_are_played_config_maps_first(played):
    release, migrate, secrets, dropped = played
    assert [d["kind"] for d in release] == ["ConfigMap", "Deployment", "Deployment"]
    assert [d["kind"] for d in migrate] == ["ConfigMap", "Pod"]
    assert set(dropped) == {"Service", "NetworkPolicy", "PodDisruptionBudget",
                            "HorizontalPodAutoscaler", "ServiceAccount"}
    # Secrets become podman secrets: each one's data map, still base64 as kube play reads it.
    assert set(secrets) == {"catsite", "catsite-migrate"}
    assert secrets["catsite"]["DJANGO_SECRET_KEY"] == "czNjcmV0"


def test_the_migration_job_runs_as_a_pod_that_runs_once(played):
    _, migrate, _, _ = played
    pod = by_name(migrate, "Pod", "catsite-migrate")
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["containers"][0]["command"] == [
        "sh", "-c", "python manage.py migrate --noinput && python manage.py load_species"]
    assert pod["spec"]["hostNetwork"] is True


def test_pods_share_the_host_network_and_reach_the_model_on_loopback(played):
    release, _, _, _ = played
    assert by_name(release, "ConfigMap", "catsite")["data"]["INFERENCE_URL"] == \
        "http://127.0.0.1:18080"
    model = by_name(release, "Deployment", "catsite-model")["spec"]["template"]["spec"]
    container = model["containers"][0]
    assert model["hostNetwork"] is True and "ports" not in container
    # Probes keep working without the named port.
    assert container["readinessProbe"]["httpGet"]["port"] == 18080
    # The chart's security context is untouched.
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_init_containers_run_once_and_volumes_are_the_pods_own(played):
    release, _, _, _ = played
    model = by_name(release, "Deployment", "catsite-model")["spec"]["template"]["spec"]
    web = by_name(release, "Deployment", "catsite")["spec"]["template"]["spec"]
    assert model["restartPolicy"] == "OnFailure" and "restartPolicy" not in web
    assert {v["name"] for v in model["volumes"]} == {"catsite-model-tmp", "catsite-model-model"}
    mounts = {m["name"] for c in model["initContainers"] + model["containers"]
              for m in c["volumeMounts"]}
    assert mounts == {"catsite-model-tmp", "catsite-model-model"}
    assert all(v["name"].startswith("catsite-") for v in web["volumes"])


def test_pod_status_fields_podman_cannot_fill_are_dropped(render):
    # The chart gives the web pods POD_IP from status.podIP (for /metrics scrapes by pod IP);
    # podman 4.3 refuses to start a pod with it. Every other variable stays.
    objects = render()
    rendered = by_name([o for o in objects if not kube_play.is_hook(o)], "Deployment", "catsite")
    env = rendered["spec"]["template"]["spec"]["containers"][0]["env"]
    assert "POD_IP" in {variable["name"] for variable in env}
    release, _, _, _ = kube_play.adapt(objects)
    played_env = by_name(release, "Deployment", "catsite")["spec"]["template"]["spec"][
        "containers"][0]["env"]
    assert {v["name"] for v in played_env} == {v["name"] for v in env} - {"POD_IP"}


def test_the_cronjob_runs_once_as_a_pod_beside_the_settings(render):
    objects = render("--set-string", "secret.data.DJANGO_SECRET_KEY=s3cret")
    documents = kube_play.scheduled(objects)
    assert [d["kind"] for d in documents] == ["ConfigMap", "Pod"]
    pod = by_name(documents, "Pod", "catsite-purge-feedback")
    assert pod["spec"]["restartPolicy"] == "Never" and pod["spec"]["hostNetwork"] is True
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["python", "manage.py", "purge_feedback", "--older-than", "30"]
    assert {"configMapRef": {"name": "catsite"}} in container["envFrom"]
    assert {v["name"] for v in pod["spec"]["volumes"]} == {
        "catsite-purge-feedback-tmp", "catsite-purge-feedback-feedback-photos"}
    assert "CronJob" not in kube_play.adapt(objects)[3]  # played, not dropped
    assert kube_play.scheduled(render("--set", "purgeFeedback.enabled=false")) == []
