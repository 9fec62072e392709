"""The chart's alerts and canary queries, run by promtool (Debian's prometheus package, which
deploy/ci/install-tools.sh installs): the rule file is the rendered PrometheusRule's groups, the
series are written here, and for every alert one case makes it fire and one keeps it silent
(`promtool test rules`). The AnalysisTemplate's queries are evaluated the same way
(promql_expr_test): they measure the new pods only, and answer when those have no traffic."""
import re
import shutil
import subprocess

import pytest
import yaml

from tests.container.chart_support import one
from testsupport.components import missing_component

JOB = 'job="catsite"'  # the release the render fixture names "catsite"
ON = ("--set", "metrics.prometheusRule.enabled=true")


@pytest.fixture(scope="module")
def promtool(tools_env):
    path = shutil.which("promtool", path=tools_env["PATH"])
    if path is None:
        missing_component("promtool is not installed",
                          "deploy/ci/install-tools.sh installs it (apt-get install prometheus)")
    return path


@pytest.fixture(scope="module")
def rule_groups(render):
    return one(render(*ON), "PrometheusRule")["spec"]["groups"]


@pytest.fixture(scope="module")
def alerts(rule_groups):
    return {rule["alert"]: rule for group in rule_groups for rule in group["rules"]
            if "alert" in rule}


@pytest.fixture()
def run_tests(promtool, rule_groups, tmp_path):
    """run_tests(tests, groups=None) -> the finished `promtool test rules` (the chart's rule
    groups unless others are given)."""

    def _run(tests, groups=None):
        (tmp_path / "rules.yaml").write_text(
            yaml.safe_dump({"groups": groups or rule_groups}, sort_keys=False))
        (tmp_path / "tests.yaml").write_text(yaml.safe_dump(
            {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests},
            sort_keys=False))
        return subprocess.run([promtool, "test", "rules", "tests.yaml"], cwd=tmp_path,
                              capture_output=True, text=True, check=False)

    return _run


def series(name, labels, values):
    inner = ", ".join([JOB] + [f'{key}="{value}"' for key, value in labels.items()])
    return {"series": f"{name}{{{inner}}}", "values": values}


def expected(rule, **labels):
    """The alert as Prometheus sends it: the rule's labels and the series' labels kept by its
    expression, its annotations with their {{ $labels.X }} filled in."""
    def fill(text):
        return re.sub(r"\{\{\s*\$labels\.(\w+)\s*\}\}", lambda m: labels[m.group(1)], text)
    return {"exp_labels": {**rule["labels"], **labels},
            "exp_annotations": {key: fill(text) for key, text in rule["annotations"].items()}}


def requests(status_counts, job=JOB):
    return [{"series": f'catsite_http_requests_total{{{job}, view="classifier:api-classify", '
                       f'method="POST", status="{status}"}}', "values": f"0+{per_minute}x40"}
            for status, per_minute in status_counts.items()]


def identify_buckets(per_bucket):
    """Cumulative buckets of catsite_identify_seconds{stage="total"}: observations a minute
    in each bucket upper bound."""
    cases, total = [], 0
    for le in ("0.5", "1.0", "2.5", "5.0", "+Inf"):
        total += per_bucket.get(le, 0)
        cases.append(series("catsite_identify_seconds_bucket", {"stage": "total", "le": le},
                            f"0+{total}x40"))
    return cases


def identifications(not_a_cat, cat):
    """Identification counters every 5 minutes: lists of "start+stepxN" segments."""
    labels = {"model": "efficientnet-lite0-imagenet", "version": "1.0.0", "species": ""}
    return [series("catsite_identifications_total", {**labels, "outcome": "not_a_cat"}, not_a_cat),
            series("catsite_identifications_total", {**labels, "outcome": "cat"}, cat)]


PSI = {"model": "efficientnet-lite0-imagenet", "version": "2.0.0"}

# (alert, case, fires, input series, interval, eval times, labels of the alert when it fires)
CASES = [
    ("CatsiteHighErrorRate", "10 % of the answers are 500s", True,
     requests({"500": 10, "200": 90}), "1m", ["15m"], {}),
    ("CatsiteHighErrorRate", "1 % are 500s; another job's are all 500s", False,
     requests({"500": 1, "200": 99}) + requests({"500": 50}, job='job="other"'), "1m",
     ["15m"], {}),
    ("CatsiteSlowIdentification", "every identification takes 2.5 to 5 s", True,
     identify_buckets({"5.0": 10}), "1m", ["30m"], {}),
    ("CatsiteSlowIdentification", "every identification takes under 0.5 s", False,
     identify_buckets({"0.5": 10}), "1m", ["30m"], {}),
    ("CatsiteNotACatShareDrift", "the share jumps from 10 % to 36 % after a day", True,
     identifications("0+10x288 2930+50x36", "0+90x324"), "5m", ["27h"], {}),
    ("CatsiteNotACatShareDrift", "the share moves from 10 % to 15 % after a day", False,
     identifications("0+10x288 2895+15x36", "0+90x288 26005+85x36"), "5m", ["27h"], {}),
    ("CatsiteDriftPSIHigh", "the confidence PSI stays at 0.35 (the answers' at 0.05)", True,
     [series("catsite_drift_psi", {**PSI, "signal": "confidence", "instance": "a"}, "0.35x60"),
      series("catsite_drift_psi", {**PSI, "signal": "confidence", "instance": "b"}, "0.35x60"),
      series("catsite_drift_psi", {**PSI, "signal": "answers", "instance": "a"}, "0.05x60")],
     "1m", ["45m"], {**PSI, "signal": "confidence"}),
    ("CatsiteDriftPSIHigh", "PSI 0.15, and 0.35 for 20 minutes only", False,
     [series("catsite_drift_psi", {**PSI, "signal": "answers", "instance": "a"}, "0.15x60"),
      series("catsite_drift_psi", {**PSI, "signal": "confidence", "instance": "a"},
             "0.35x19 0.1x40")],
     "1m", ["20m", "45m"], {}),
    ("CatsiteModelNotLoaded", "one of two pods has no model", True,
     [series("catsite_model_loaded", {"instance": "a"}, "1x20"),
      series("catsite_model_loaded", {"instance": "b"}, "1 1 0x18")], "1m", ["10m"], {}),
    ("CatsiteModelNotLoaded", "a pod without a model for 3 minutes; another job's", False,
     [series("catsite_model_loaded", {"instance": "a"}, "1x20"),
      series("catsite_model_loaded", {"instance": "b"}, "1 1 1 1 1 0 0 0 1x11"),
      {"series": 'catsite_model_loaded{job="other"}', "values": "0x20"}],
     "1m", ["8m", "12m"], {}),
]


def case_tests(alerts, alert, fires, input_series, interval, eval_times, labels):
    checks = [{"eval_time": at, "alertname": alert,
               "exp_alerts": [expected(alerts[alert], **labels)] if fires else []}
              for at in eval_times]
    return [{"interval": interval, "input_series": input_series, "alert_rule_test": checks}]


def test_promtool_checks_the_rendered_rules(promtool, rule_groups, tmp_path):
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups}))
    checked = subprocess.run([promtool, "check", "rules", str(tmp_path / "rules.yaml")],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout


def test_every_alert_has_a_firing_and_a_silent_case(alerts):
    covered = {(alert, fires) for alert, _, fires, *_ in CASES}
    assert covered == {(alert, fires) for alert in alerts for fires in (True, False)}


@pytest.mark.parametrize(("alert", "case", "fires", "input_series", "interval", "eval_times",
                          "labels"), CASES, ids=[f"{c[0]}-{'fires' if c[2] else 'silent'}"
                                                 for c in CASES])
def test_the_alert(run_tests, alerts, alert, case, fires, input_series, interval, eval_times,
                   labels):
    result = run_tests(case_tests(alerts, alert, fires, input_series, interval, eval_times,
                                  labels))
    assert result.returncode == 0, f"{alert} ({case}):\n{result.stdout}{result.stderr}"
    assert "SUCCESS" in result.stdout


def test_a_wrong_expectation_fails(run_tests, alerts):
    # The harness can fail: the silent series, expected to fire.
    alert, case, _, input_series, interval, eval_times, labels = CASES[1]
    result = run_tests(case_tests(alerts, alert, True, input_series, interval, eval_times,
                                  labels))
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr


def test_the_thresholds_are_the_values(run_tests, render):
    rule = one(render(*ON, "--set-json", "metrics.prometheusRule.driftPsi=0.4",
                      "--set", "metrics.prometheusRule.driftPsiFor=5m"), "PrometheusRule")
    groups = rule["spec"]["groups"]
    alerts = {r["alert"]: r for g in groups for r in g["rules"] if "alert" in r}
    psi = [series("catsite_drift_psi", {**PSI, "signal": "confidence", "instance": "a"},
                  "0.35x20"),
           series("catsite_drift_psi", {**PSI, "signal": "answers", "instance": "a"}, "0.45x20")]
    result = run_tests(case_tests(alerts, "CatsiteDriftPSIHigh", True, psi, "1m", ["10m"],
                                  {**PSI, "signal": "answers"}), groups=groups)
    assert result.returncode == 0, result.stdout + result.stderr


# The canary's queries (AnalysisTemplate) -----------------------------------------------------

CANARY, STABLE = "7f9c6d5b48", "5d8c7b6a59"


def pods(metric, values_by_hash, **labels):
    return [series(metric, {**labels, "rollouts_pod_template_hash": pod_hash, "instance": pod_hash},
                   values) for pod_hash, values in values_by_hash.items()]


def analysis_queries(render):
    template = one(render("--set", "rollout.enabled=true"), "AnalysisTemplate")
    return {m["name"]: (m["provider"]["prometheus"]["query"].replace("{{args.canary-hash}}",
                                                                     CANARY),
                        m["successCondition"]) for m in template["spec"]["metrics"]}


HTTP = {"view": "classifier:api-classify", "method": "POST"}
MODEL = {"name": "efficientnet-lite0-imagenet"}
QUERY_CASES = {
    # The new pods answer 20 % 500s, the stable ones none: the ratio is the new pods'.
    "error-ratio": (pods("catsite_http_requests_total", {CANARY: "0+20x10", STABLE: "0+0x10"},
                         status="500", **HTTP)
                    + pods("catsite_http_requests_total", {CANARY: "0+80x10", STABLE: "0+100x10"},
                           status="200", **HTTP), 0.2),
    "identify-p95": ([s for pod_hash, slow in ((CANARY, True), (STABLE, False))
                      for le, count in (("1.0", 0 if slow else 10), ("2.5", 0 if slow else 10),
                                        ("5.0", 10), ("+Inf", 10))
                      for s in pods("catsite_identify_seconds_bucket", {pod_hash: f"0+{count}x10"},
                                    stage="total", le=le)], 4.875),
    "shadow-agreement": (pods("catsite_shadow_agreement_total", {CANARY: "0+6x10",
                                                                 STABLE: "0+10x10"},
                              challenger_version="1.0.0", agreed="true")
                         + pods("catsite_shadow_agreement_total", {CANARY: "0+4x10",
                                                                   STABLE: "0+0x10"},
                                challenger_version="1.0.0", agreed="false"), 0.6),
    # Every pod reports the PSI of every version (computed from the database): the new pods
    # serve 2.0.0, whose PSI is 0.3; the stable ones' 1.0.0 has 0.05.
    "drift-psi": ([s for pod_hash in (CANARY, STABLE)
                   for version, psi in (("1.0.0", "0.05"), ("2.0.0", "0.3"))
                   for s in pods("catsite_drift_psi", {pod_hash: f"{psi}x10"}, signal="answers",
                                 model=MODEL["name"], version=version)]
                  + pods("catsite_model_info", {CANARY: "1x10"}, version="2.0.0", **MODEL)
                  + pods("catsite_model_info", {STABLE: "1x10"}, version="1.0.0", **MODEL), 0.3),
}
IDLE = {"error-ratio": 0, "identify-p95": 0, "shadow-agreement": 1, "drift-psi": 0}


@pytest.mark.parametrize("metric", sorted(QUERY_CASES))
def test_the_canary_query_measures_the_new_pods_only(run_tests, render, metric):
    query, _condition = analysis_queries(render)[metric]
    input_series, value = QUERY_CASES[metric]
    stable_only = [s for s in input_series if CANARY not in s["series"]]
    # promtool compares the values exactly: 0.2 from two rates is 0.19999999999999998.
    query = f"round({query}, 0.0001)"
    tests = [{"interval": "1m", "input_series": input_series,
              "promql_expr_test": [{"expr": query, "eval_time": "8m",
                                    "exp_samples": [{"labels": "{}", "value": value}]}]},
             # Before the new pods have traffic (only the stable ones'): the idle answer.
             {"interval": "1m", "input_series": stable_only,
              "promql_expr_test": [{"expr": query, "eval_time": "8m",
                                    "exp_samples": [{"labels": "{}", "value": IDLE[metric]}]}]}]
    result = run_tests(tests, groups=[{"name": "none", "rules": [
        {"record": "unused", "expr": "vector(1)"}]}])
    assert result.returncode == 0, f"{metric}: {query}\n{result.stdout}{result.stderr}"


def test_the_success_conditions_use_the_alert_thresholds(render):
    queries = analysis_queries(render)
    assert {name: condition for name, (_, condition) in queries.items()} == {
        "error-ratio": "result[0] <= 0.05", "identify-p95": "result[0] <= 2",
        "shadow-agreement": "result[0] >= 0.9", "drift-psi": "result[0] <= 0.2"}
