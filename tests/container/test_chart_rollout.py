"""The opt-in canary delivery (rollout.enabled): an Argo Rollouts Rollout of the web pods instead
of the Deployment, its AnalysisTemplate, and their checks (deploy/ci/check_monitoring.py against
the CRD schemas in deploy/ci/schemas/, promtool on the queries, validate-chart.sh on the rest).
The queries' values are tested in test_alert_rules.py."""
import json

import pytest
import yaml

from tests.container.chart_support import (
    CHART,
    DIGEST,
    assert_passes_chart_checks,
    by_kind,
    check_monitoring,
    ci_script,
    one,
)

ROLLOUT = ("--set", "rollout.enabled=true")
MONITORED = (*ROLLOUT, "--set", "metrics.serviceMonitor.enabled=true",
             "--set", "metrics.prometheusRule.enabled=true")

kube_play = ci_script("kube_play")


def test_the_default_is_a_deployment_and_no_argo_object(render):
    objects = render("--set", "autoscaling.enabled=true")
    one(objects, "Deployment")
    assert not by_kind(objects, "Rollout") and not by_kind(objects, "AnalysisTemplate")
    target = one(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")


def test_the_rollout_runs_the_deployments_pods(render):
    options = ("--set", "model.challenger.enabled=true", "--set", "model.fetchAtStart.enabled=true",
               "-f", str(CHART / "values-production.yaml"))
    deployment = one(render(*options), "Deployment")
    objects = render(*options, *ROLLOUT)
    assert not by_kind(objects, "Deployment")
    rollout = one(objects, "Rollout")
    assert rollout["apiVersion"] == "argoproj.io/v1alpha1"
    assert rollout["spec"]["template"] == deployment["spec"]["template"]
    assert rollout["spec"]["selector"] == deployment["spec"]["selector"]
    assert rollout["metadata"]["name"] == deployment["metadata"]["name"]
    # Production autoscales: the HPA owns the replicas, and scales the Rollout.
    assert "replicas" not in rollout["spec"]
    target = one(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert target == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                      "name": rollout["metadata"]["name"]}


def test_the_canary_steps_and_their_analysis(render):
    objects = render(*ROLLOUT)
    canary = one(objects, "Rollout")["spec"]["strategy"]["canary"]
    analysis = {"templates": [{"templateName": "catsite"}],
                "args": [{"name": "canary-hash",
                          "valueFrom": {"podTemplateHashValue": "Latest"}}]}
    assert canary["steps"] == [{"setWeight": 20}, {"pause": {"duration": "5m"}},
                               {"analysis": analysis}, {"setWeight": 50},
                               {"pause": {"duration": "5m"}}, {"analysis": analysis}]
    assert (canary["maxSurge"], canary["maxUnavailable"]) == (1, 0)
    template = one(objects, "AnalysisTemplate")
    assert template["metadata"]["name"] == "catsite"
    assert template["spec"]["args"] == [{"name": "canary-hash"}]
    metrics = {m["name"]: m for m in template["spec"]["metrics"]}
    assert set(metrics) == {"error-ratio", "identify-p95", "shadow-agreement", "drift-psi"}
    for metric in metrics.values():
        assert (metric["interval"], metric["count"], metric["failureLimit"]) == ("1m", 5, 1)
        prometheus = metric["provider"]["prometheus"]
        assert prometheus["address"] == "http://prometheus-operated.monitoring.svc:9090"
        assert 'rollouts_pod_template_hash="{{args.canary-hash}}"' in prometheus["query"]
    assert 'agreed="true"' in metrics["shadow-agreement"]["provider"]["prometheus"]["query"]


def test_the_steps_and_the_analysis_are_values(render):
    objects = render(*ROLLOUT, "--set-json",
                     'rollout.steps=[{"setWeight":10},{"pause":{}},{"analysis":{}},'
                     '{"analysis":{"templates":[{"templateName":"mine"}]}}]',
                     "--set", "rollout.analysis.prometheusAddress=http://prom:9090",
                     "--set", "rollout.analysis.count=3", "--set", "rollout.analysis.window=2m",
                     "--set-json", "rollout.analysis.minShadowAgreement=0.75",
                     "--set-json", "metrics.prometheusRule.errorRatio=0.01")
    steps = one(objects, "Rollout")["spec"]["strategy"]["canary"]["steps"]
    assert steps[:2] == [{"setWeight": 10}, {"pause": {}}]
    assert steps[2]["analysis"]["templates"] == [{"templateName": "catsite"}]
    assert steps[3] == {"analysis": {"templates": [{"templateName": "mine"}]}}  # as written
    metrics = {m["name"]: m for m in one(objects, "AnalysisTemplate")["spec"]["metrics"]}
    assert metrics["error-ratio"]["successCondition"] == "result[0] <= 0.01"
    assert metrics["shadow-agreement"]["successCondition"] == "result[0] >= 0.75"
    assert metrics["identify-p95"]["count"] == 3
    assert "[2m]" in metrics["error-ratio"]["provider"]["prometheus"]["query"]
    assert metrics["drift-psi"]["provider"]["prometheus"]["address"] == "http://prom:9090"


@pytest.mark.parametrize("step", ['{"setWeight":120}', '{"pause":{"duration":"soon"}}',
                                  '{"setWeight":10,"pause":{}}', '{"experiment":{}}'])
def test_a_malformed_step_is_refused_by_the_schema(render, step):
    with pytest.raises(AssertionError, match="steps"):
        render(*ROLLOUT, "--set-json", f"rollout.steps=[{step}]")


def test_the_service_monitor_keeps_the_pod_template_hash(render):
    monitor = one(render(*MONITORED), "ServiceMonitor")
    assert monitor["spec"]["podTargetLabels"] == ["rollouts-pod-template-hash"]
    plain = one(render("--set", "metrics.serviceMonitor.enabled=true"), "ServiceMonitor")
    assert "podTargetLabels" not in plain["spec"]


def test_the_check_passes_the_rollout_and_hands_its_pods_on(render, tools_env, tmp_path):
    objects = render(*MONITORED, "--set", "autoscaling.enabled=true")
    checked = check_monitoring(tools_env, tmp_path, objects)
    assert checked.returncode == 0, checked.stderr
    others = list(yaml.safe_load_all((tmp_path / "others.yaml").read_text()))
    kinds = [o["kind"] for o in others]
    assert "Rollout" not in kinds and "AnalysisTemplate" not in kinds
    (pods,) = [o for o in others if o["kind"] == "Deployment"]
    assert pods["spec"]["template"] == one(objects, "Rollout")["spec"]["template"]


def mutated(objects, change):
    objects = json.loads(json.dumps(objects))
    change(objects)
    return objects


def _analysis_metric(objects, name):
    template = one(objects, "AnalysisTemplate")
    return next(m for m in template["spec"]["metrics"] if m["name"] == name)


FAULTS = {
    "a field the CRD does not have": (
        lambda o: one(o, "Rollout")["spec"]["strategy"]["canary"].update(stepz=[]),
        "Rollout/catsite: Additional properties are not allowed ('stepz'"),
    "a pod field of the wrong type": (
        lambda o: one(o, "Rollout")["spec"]["template"]["spec"]["containers"][0].update(
            imagePullPolicy=1),
        "Rollout/catsite: 1 is not of type 'string'"),
    "a broken query": (
        lambda o: _analysis_metric(o, "identify-p95")["provider"]["prometheus"].update(
            query="histogram_quantile(0.95, rate(x[5m])"),
        "promtool check rules"),
    "an undeclared argument": (
        lambda o: _analysis_metric(o, "drift-psi")["provider"]["prometheus"].update(
            query='max(catsite_drift_psi{version="{{args.version}}"})'),
        "undeclared arguments ['version']"),
    "no failureLimit": (
        lambda o: _analysis_metric(o, "error-ratio").pop("failureLimit"),
        "metric 'error-ratio': no failureLimit"),
    "an analysis naming no template of the render": (
        lambda o: one(o, "Rollout")["spec"]["strategy"]["canary"]["steps"][2]["analysis"][
            "templates"][0].update(templateName="other"),
        "names AnalysisTemplate 'other'"),
    "an analysis without the canary's hash": (
        lambda o: one(o, "Rollout")["spec"]["strategy"]["canary"]["steps"][2]["analysis"].pop(
            "args"),
        "gives 'catsite' no ['canary-hash']"),
    "an HPA still scaling the Deployment": (
        lambda o: one(o, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"].update(
            apiVersion="apps/v1", kind="Deployment"),
        "scales apps/v1 Deployment/catsite, which the render has not"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_check_catches(render, tools_env, tmp_path, fault):
    change, message = FAULTS[fault]
    objects = render(*MONITORED, "--set", "autoscaling.enabled=true")
    checked = check_monitoring(tools_env, tmp_path, mutated(objects, change))
    assert checked.returncode == 1 and message in checked.stderr, checked.stderr


def test_the_check_runs_promtool_on_the_alert_rules(render, tools_env, tmp_path):
    def break_rule(objects):
        rule = one(objects, "PrometheusRule")["spec"]["groups"][1]["rules"][0]
        rule["expr"] = "sum(rate(catsite_http_requests_total[5m])) >"
    checked = check_monitoring(tools_env, tmp_path, mutated(render(*MONITORED), break_rule))
    assert checked.returncode == 1
    assert "PrometheusRule/catsite: promtool check rules" in checked.stderr


@pytest.mark.parametrize("kube_version", ["1.30.0", "1.34.0"])
def test_the_rollout_render_passes_the_chart_checks(render, tools_env, tmp_path, kube_version):
    objects = render(*MONITORED, "-f", str(CHART / "values-production.yaml"),
                     "--set", "model.challenger.enabled=true", "--set", f"image.digest={DIGEST}",
                     kube_version=kube_version)
    assert_passes_chart_checks(tools_env, tmp_path, objects, kube_version)


def test_kube_play_plays_the_rollouts_pods_as_a_deployment(render):
    objects = render(*ROLLOUT, "--set", "autoscaling.enabled=true")
    release, _migrate, _secrets, dropped = kube_play.adapt(objects)
    (played,) = [d for d in release if d["kind"] == "Deployment"]
    rollout = one(objects, "Rollout")
    assert played["metadata"]["name"] == rollout["metadata"]["name"]
    assert played["spec"]["replicas"] == 1 and "strategy" not in played["spec"]
    assert [c["image"] for c in played["spec"]["template"]["spec"]["containers"]] == \
        [c["image"] for c in rollout["spec"]["template"]["spec"]["containers"]]
    assert {"AnalysisTemplate", "HorizontalPodAutoscaler"} <= set(dropped)
