"""The chart's opt-in monitoring: ServiceMonitor, PrometheusRule, Grafana dashboard, and what
the pods need to be scraped (rendering only)."""
import json
import re
from pathlib import Path

import pytest
import yaml

from tests.container.chart_support import (
    CHART,
    DIGEST,
    ROOT,
    assert_passes_chart_checks,
    by_kind,
    check_monitoring,
    one,
)

ON = ("--set", "metrics.serviceMonitor.enabled=true", "--set",
      "metrics.prometheusRule.enabled=true", "--set", "metrics.grafanaDashboard.enabled=true")


# catsite_drift_psi{model, version, signal}: classifier/drift.py publishes it as a gauge of its
# own (not through a prometheus_client constructor that defined_metrics reads).


def defined_metrics() -> set[str]:
    """The metric names the app defines (Counter names get _total in the exposition)."""
    names = set()
    for module in ("core/metrics.py", "classifier/metrics.py"):
        source = (ROOT / module).read_text()
        for kind, name in re.findall(r'(Counter|Gauge|Histogram)\(\s*"(catsite_\w+)"', source):
            names.add(name + "_total" if kind == "Counter" else name)
            if kind == "Histogram":
                names |= {name + "_bucket", name + "_count", name + "_sum"}
    # The drift gauges are published by classifier/drift.py under its GAUGE name (computed
    # from the database, served by a collector), not declared with Gauge(...).
    names.update(re.findall(r'^GAUGE = "(catsite_\w+)"', (ROOT / "classifier/drift.py").read_text(),
                            re.M))
    return names


def test_monitoring_is_opt_in(render):
    objects = render()
    assert not by_kind(objects, "ServiceMonitor") and not by_kind(objects, "PrometheusRule")
    assert len(by_kind(objects, "ConfigMap")) == 1  # the settings only


def test_the_service_monitor_scrapes_metrics_on_the_service(render):
    objects = render(*ON, "--set", "metrics.serviceMonitor.labels.release=prom")
    monitor = one(objects, "ServiceMonitor")
    service = one(objects, "Service")
    assert monitor["metadata"]["labels"]["release"] == "prom"
    selected = monitor["spec"]["selector"]["matchLabels"]
    assert selected.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}]
    # The metrics port of its own, leading to the web container's; the ingress routes `http`.
    ports = {port["name"]: port for port in service["spec"]["ports"]}
    assert set(ports) == {"http", "metrics"}
    assert ports["metrics"] == {"name": "metrics", "port": 9100, "targetPort": "metrics",
                                "protocol": "TCP"}
    web = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "metrics", "containerPort": 9100, "protocol": "TCP"} in web["ports"]


def test_only_prometheus_reaches_the_metrics_port(render):
    objects = render(*ON, "--set", "metrics.port=9200",
                     "--set", "networkPolicy.ingressNamespaceSelector.name=ingress",
                     "--set", "networkPolicy.prometheusNamespaceSelector.name=monitoring")
    config = next(c for c in by_kind(objects, "ConfigMap") if "DJANGO_DEBUG" in c["data"])
    assert config["data"]["METRICS_PORT"] == "9200"
    http, metrics = one(objects, "NetworkPolicy")["spec"]["ingress"]
    assert http == {"ports": [{"port": "http", "protocol": "TCP"}],
                    "from": [{"namespaceSelector": {"matchLabels": {"name": "ingress"}}}]}
    assert metrics == {"ports": [{"port": "metrics", "protocol": "TCP"}],
                       "from": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]}
    # Without Prometheus's namespace: any namespace of the cluster, never from outside it.
    _http, anywhere = one(render(), "NetworkPolicy")["spec"]["ingress"]
    assert anywhere["from"] == [{"namespaceSelector": {}}]
    # The ingress routes the site's port only.
    ingress = one(render("--set", "ingress.enabled=true"), "Ingress")
    backends = {path["backend"]["service"]["port"]["name"]
                for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]}
    assert backends == {"http"}


def test_scrape_annotations_are_opt_in(render):
    annotations = one(render(), "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert not any(key.startswith("prometheus.io/") for key in annotations)
    annotated = one(render("--set", "metrics.scrapeAnnotations=true"), "Deployment")
    assert annotated["spec"]["template"]["metadata"]["annotations"].items() >= {
        "prometheus.io/scrape": "true", "prometheus.io/port": "9100",
        "prometheus.io/path": "/metrics"}.items()


def test_the_alerts_cover_errors_latency_drift_and_the_model(render):
    rule = one(render(*ON, "--set-json", "metrics.prometheusRule.identifyP95Seconds=1.5"),
               "PrometheusRule")
    alerts = {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]
              if "alert" in r}
    assert set(alerts) == {"CatsiteHighErrorRate", "CatsiteSlowIdentification",
                           "CatsiteNotACatShareDrift", "CatsiteDriftPSIHigh",
                           "CatsiteModelNotLoaded"}
    assert "> 1.5" in alerts["CatsiteSlowIdentification"]["expr"]
    assert alerts["CatsiteDriftPSIHigh"]["expr"].endswith("> 0.2")
    assert alerts["CatsiteDriftPSIHigh"]["for"] == "30m"
    known = defined_metrics()
    for group in rule["spec"]["groups"]:
        for entry in group["rules"]:
            used = set(re.findall(r"\bcatsite_\w+", entry["expr"]))
            assert used <= known, (entry.get("alert") or entry.get("record"), used - known)


def test_the_dashboard_queries_only_metrics_the_app_defines(render):
    objects = render(*ON)
    config = next(c for c in by_kind(objects, "ConfigMap") if "catsite.json" in c["data"])
    assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config["data"]["catsite.json"])
    assert dashboard == json.loads((CHART / "dashboards" / "catsite.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\bcatsite_\w+", expr)}
    assert used <= defined_metrics(), used - defined_metrics()
    assert {"catsite_identifications_total", "catsite_identify_seconds_bucket",
            "catsite_shadow_agreement_total", "catsite_model_info"} <= used


def test_the_monitoring_check_passes_the_chart_and_catches_faults(render, tools_env, tmp_path):
    objects = render(*ON)
    assert check_monitoring(tools_env, tmp_path, objects).returncode == 0
    others = list(yaml.safe_load_all(Path(tmp_path / "others.yaml").read_text()))
    assert {o["kind"] for o in others} >= {"Deployment", "Service"}
    assert not {"ServiceMonitor", "PrometheusRule"} & {o["kind"] for o in others}

    rule = one(objects, "PrometheusRule")
    alert = next(r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r)
    del alert["labels"]["severity"]
    failed = check_monitoring(tools_env, tmp_path, objects)
    assert failed.returncode == 1 and "PrometheusRule" in failed.stderr


def test_the_monitoring_check_refuses_a_scrape_of_the_public_port(render, tools_env, tmp_path):
    objects = render(*ON, "--set", "ingress.enabled=true")
    assert check_monitoring(tools_env, tmp_path, objects).returncode == 0
    one(objects, "ServiceMonitor")["spec"]["endpoints"][0]["port"] = "http"
    failed = check_monitoring(tools_env, tmp_path, objects)
    assert failed.returncode == 1 and "routed by an Ingress" in failed.stderr
    one(objects, "ServiceMonitor")["spec"]["endpoints"][0]["port"] = "nope"
    failed = check_monitoring(tools_env, tmp_path, objects)
    assert failed.returncode == 1 and "has no port 'nope'" in failed.stderr


@pytest.mark.parametrize("kube_version", ["1.30.0", "1.34.0"])
def test_the_monitoring_render_passes_the_chart_checks(render, tools_env, tmp_path, kube_version):
    objects = render(*ON, "-f", str(CHART / "values-production.yaml"),
                     "--set", f"image.digest={DIGEST}", kube_version=kube_version)
    assert_passes_chart_checks(tools_env, tmp_path, objects, kube_version)


def test_logs_are_json_by_default(render):
    config = next(c for c in by_kind(render(), "ConfigMap") if "DJANGO_DEBUG" in c["data"])
    assert config["data"]["LOG_FORMAT"] == "json"
    plain = render("--set", "config.logFormat=plain")
    assert next(c for c in by_kind(plain, "ConfigMap")
                if "DJANGO_DEBUG" in c["data"])["data"]["LOG_FORMAT"] == "plain"


def test_the_challenger_is_fetched_into_its_own_folder(render):
    objects = render("--set", "model.challenger.enabled=true",
                     "--set-json", "model.challenger.shadowRate=0.25")
    spec = one(objects, "Deployment")["spec"]["template"]["spec"]
    (init,) = spec["initContainers"]  # the champion stays baked into the image
    assert init["command"] == ["python", "manage.py", "fetch_model", "--version", "challenger",
                               "--dest", "/models-challenger"]
    web = spec["containers"][0]
    assert {"name": "challenger", "mountPath": "/models-challenger",
            "readOnly": True} in web["volumeMounts"]
    config = next(c for c in by_kind(objects, "ConfigMap") if "DJANGO_DEBUG" in c["data"])
    assert config["data"]["MODEL_CHALLENGER_DIR"] == "/models-challenger"
    assert config["data"]["MODEL_SHADOW_RATE"] == "0.25"
    both = render("--set", "model.challenger.enabled=true",
                  "--set", "model.fetchAtStart.enabled=true")
    names = [c["name"] for c in one(both, "Deployment")["spec"]["template"]["spec"]
             ["initContainers"]]
    assert names == ["fetch-model", "fetch-challenger"]
    assert "initContainers" not in one(render(), "Deployment")["spec"]["template"]["spec"]
