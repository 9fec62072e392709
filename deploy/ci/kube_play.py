"""Turn a rendered Helm release into what ``podman kube play`` (podman 4.3) can run here.

    python kube_play.py RENDERED.yaml OUT_DIR

Writes OUT_DIR/release.yaml (the ConfigMaps and Deployments), OUT_DIR/migrate.yaml (the
migration hook's ConfigMap and its Job as a Pod), OUT_DIR/scheduled.yaml (the release's
ConfigMaps and each CronJob's job as a Pod, run once: purge_feedback) and
OUT_DIR/secrets/NAME.json (each Secret's ``data`` map, for ``podman secret create NAME FILE``),
and prints what it dropped. The pods run
as the chart says (images, commands, init containers, env, volumes, security context), with
these adaptations, each because kube play differs from Kubernetes:
  - Secrets: kube play takes no Secret document; a podman secret of the same name holding the
    JSON of its data map serves envFrom.secretRef.
  - Jobs: kube play runs no Job; the Job's pod template runs as a Pod (restartPolicy Never).
    Nor CronJobs: the job template's pod runs as a Pod, once, when the play script says.
  - Services: kube play has none, nor cluster DNS. Every pod shares the host's network (it
    also reaches the machine's PostgreSQL and Azurite on 127.0.0.1; kube play refuses port
    mappings there, so container ports are dropped), and a Service's name in a ConfigMap value
    becomes 127.0.0.1: INFERENCE_URL=http://<release>-model:<port> reaches the model pod as
    long as the Service port equals the container port (the play script renders them equal).
  - Volumes: each pod's emptyDir volumes get the pod's name as a prefix (podman 4.3 would share
    two pods' volumes of the same name).
  - Init containers: podman 4.3 applies the pod's restart policy to them, so a Deployment's
    pod with init containers runs with restartPolicy OnFailure instead of Always.
  - Probes are not run by podman here: the play script probes the pods itself.
  - The downward API's status fields (POD_IP from status.podIP) are not supported by podman
    4.3: such variables are dropped (on the host network the pod's address is the host's).
  - Rollouts (rollout.enabled): kube play knows no Argo Rollouts; a Rollout's pods (the same
    template as the Deployment's) are played as a Deployment, without canary steps.
  - HPA, PDB, NetworkPolicy, Ingress, ServiceAccount and the AnalysisTemplate have no podman
    counterpart: dropped.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

PLAYED = {"ConfigMap", "Deployment"}
HOOK = "helm.sh/hook"


def load(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def is_hook(obj: dict) -> bool:
    return HOOK in (obj["metadata"].get("annotations") or {})


def for_podman(pod_name: str, pod_spec: dict) -> dict:
    """The pod on the host's network, with volumes of its own. kube play refuses port mappings
    there: the containers listen on the host directly, so their ports are dropped (probes name
    the number instead). podman 4.3 names an emptyDir's volume after the volume alone, so two
    pods' `tmp` would be one volume: each pod's volumes are prefixed with its name."""
    spec = json.loads(json.dumps(pod_spec))
    spec["hostNetwork"] = True
    for volume in spec.get("volumes", []):
        volume["name"] = f"{pod_name}-{volume['name']}"
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        for mount in container.get("volumeMounts", []):
            mount["name"] = f"{pod_name}-{mount['name']}"
        container["env"] = [variable for variable in container.get("env", [])
                            if not _from_pod_status(variable)]
        numbers = {port.get("name"): port["containerPort"] for port in container.pop("ports", [])}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            action = container.get(probe, {}).get("httpGet")
            if action and action.get("port") in numbers:
                action["port"] = numbers[action["port"]]
    return spec


def _from_pod_status(variable: dict) -> bool:
    field = variable.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath", "")
    return field.startswith("status.")


def without_services(config_map: dict, services: list[str]) -> dict:
    """A Service's name in a setting (INFERENCE_URL=http://<release>-model:<port>) -> 127.0.0.1:
    the pods share the host's network and there is no cluster DNS (kube play ignores
    hostAliases on the host network)."""
    config_map = json.loads(json.dumps(config_map))
    for key, value in (config_map.get("data") or {}).items():
        for service in services:
            value = value.replace(f"//{service}:", "//127.0.0.1:")
        config_map["data"][key] = value
    return config_map


def as_deployment(workload: dict) -> dict:
    """A copy of a Deployment, or a Rollout's pods as one (its canary strategy dropped)."""
    if workload["kind"] == "Deployment":
        return json.loads(json.dumps(workload))
    spec = {key: workload["spec"][key] for key in
            ("replicas", "revisionHistoryLimit", "selector", "template")
            if key in workload["spec"]}
    return json.loads(json.dumps({"apiVersion": "apps/v1", "kind": "Deployment",
                                  "metadata": workload["metadata"], "spec": spec}))


def job_pod(name: str, template: dict) -> dict:
    """A Job's pod template as a Pod of that name, run once (restartPolicy Never)."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": template["metadata"].get("labels", {})},
            "spec": for_podman(name, template["spec"])}


def scheduled(objects: list[dict]) -> list[dict]:
    """The release's ConfigMaps (kube play resolves envFrom in the same file) and each CronJob's
    job as a Pod named after the CronJob."""
    services = [obj["metadata"]["name"] for obj in objects if obj["kind"] == "Service"]
    pods = [job_pod(obj["metadata"]["name"], obj["spec"]["jobTemplate"]["spec"]["template"])
            for obj in objects if obj["kind"] == "CronJob"]
    if not pods:
        return []
    return [without_services(obj, services) for obj in objects
            if obj["kind"] == "ConfigMap" and not is_hook(obj)] + pods


def adapt(objects: list[dict]) -> tuple[list[dict], list[dict], dict[str, dict], list[str]]:
    """(release documents, migration documents, secrets by name, kinds dropped)."""
    services = [obj["metadata"]["name"] for obj in objects if obj["kind"] == "Service"]
    release, migrate, secrets, dropped = [], [], {}, []
    for obj in objects:
        kind, hook = obj["kind"], is_hook(obj)
        if kind == "Secret":
            secrets[obj["metadata"]["name"]] = obj.get("data") or {}
        elif kind == "Job" and hook:
            migrate.append(job_pod(obj["metadata"]["name"], obj["spec"]["template"]))
        elif kind == "CronJob":
            continue  # scheduled(): played when the play script says
        elif kind == "ConfigMap":
            (migrate if hook else release).append(without_services(obj, services))
        elif kind in ("Deployment", "Rollout"):
            deployment = as_deployment(obj)
            deployment["spec"]["replicas"] = 1  # one pod per Deployment: ports are the host's
            template = deployment["spec"]["template"]
            template["spec"] = for_podman(deployment["metadata"]["name"], template["spec"])
            if template["spec"].get("initContainers"):
                # podman 4.3 gives init containers the pod's restart policy: with Always, an
                # init container that succeeded runs again and again, and the pod never starts.
                template["spec"]["restartPolicy"] = "OnFailure"
            release.append(deployment)
        else:
            dropped.append(kind)
    # ConfigMaps first: kube play resolves envFrom while it creates the pods.
    release.sort(key=lambda o: o["kind"] != "ConfigMap")
    migrate.sort(key=lambda o: o["kind"] != "ConfigMap")
    return release, migrate, secrets, dropped


def main(argv: list[str]) -> int:
    rendered, out = Path(argv[1]), Path(argv[2])
    objects = load(rendered)
    release, migrate, secrets, dropped = adapt(objects)
    cron = scheduled(objects)
    (out / "secrets").mkdir(parents=True, exist_ok=True)
    (out / "release.yaml").write_text(yaml.safe_dump_all(release, sort_keys=False))
    (out / "migrate.yaml").write_text(yaml.safe_dump_all(migrate, sort_keys=False))
    (out / "scheduled.yaml").write_text(yaml.safe_dump_all(cron, sort_keys=False))
    for name, data in secrets.items():
        path = out / "secrets" / f"{name}.json"
        path.write_text(json.dumps(data))
        path.chmod(0o600)
    kinds = ", ".join(f"{kind} x{dropped.count(kind)}" for kind in sorted(set(dropped)))
    played = ", ".join(f"{o['kind']} {o['metadata']['name']}" for o in release)
    pods = ", ".join(o["metadata"]["name"] for o in migrate if o["kind"] == "Pod")
    cron_pods = ", ".join(o["metadata"]["name"] for o in cron if o["kind"] == "Pod")
    print(f"release: {played}; migration pod: {pods}; scheduled pods: {cron_pods or 'none'}; "
          f"secrets: {', '.join(secrets)}; not played: {kinds or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
