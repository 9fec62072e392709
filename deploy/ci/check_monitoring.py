"""Split a rendered manifest: the objects of custom resources, which kubernetes-validate has no
schema for (the Prometheus Operator's ServiceMonitor and PrometheusRule, Argo Rollouts' Rollout
and AnalysisTemplate), are checked here against deploy/ci/schemas/; every other object is
written to OUT for validate-chart.sh's usual checks. A Rollout's pod template goes to OUT too,
as a Deployment of the same name, so that kubernetes-validate and checkov check its pods as
they check the Deployment's.
Grafana dashboards (ConfigMaps) must hold valid JSON whose queries name catsite metrics. A
ServiceMonitor must scrape a Service port that leads to a container port of the pods and that no
Ingress routes: the metrics live on a port of their own, never on the public one.
`promtool check rules` checks each PrometheusRule's groups, and each AnalysisTemplate query put
into a recording rule of its own (promtool has no check of a lone query); every analysis metric
has a successCondition and a failureLimit, and names only the arguments its template declares.
A Rollout's analysis steps name an AnalysisTemplate of the render with the arguments it needs;
a HorizontalPodAutoscaler scales an object of the render.

    python check_monitoring.py RENDERED OUT     (exit 1, with the reasons, on any fault)
"""
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import yaml
from kube_play import as_deployment  # beside this script: a Rollout's pods as a Deployment

SCHEMAS = Path(__file__).resolve().parent / "schemas"
KINDS = {"ServiceMonitor": "servicemonitor.json", "PrometheusRule": "prometheusrule.json",
         "Rollout": "rollout.json", "AnalysisTemplate": "analysistemplate.json"}
WORKLOADS = {"Deployment", "Rollout"}
# Argo Rollouts' placeholders in a query ({{args.NAME}}), replaced by a sample value for promtool.
ARG = re.compile(r"\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}")


def check(obj) -> list[str]:
    name = f"{obj['kind']}/{obj['metadata'].get('name')}"
    schema = json.loads((SCHEMAS / KINDS[obj["kind"]]).read_text())
    validator = jsonschema.Draft7Validator(schema)
    faults = [f"{name}: {error.message} at {list(error.path)}"
              for error in validator.iter_errors(obj)]
    if faults:
        return faults
    if obj["kind"] == "PrometheusRule":
        faults += promtool_check_rules(name, obj["spec"]["groups"])
    elif obj["kind"] == "AnalysisTemplate":
        faults += check_analysis(name, obj)
    return faults


def promtool_check_rules(name: str, groups: list) -> list[str]:
    """`promtool check rules` on these rule groups: PromQL syntax, durations, templates."""
    promtool = shutil.which("promtool")
    if promtool is None:
        return [f"{name}: promtool not found: deploy/ci/install-tools.sh installs it "
                "(Debian's prometheus package)"]
    with tempfile.TemporaryDirectory() as work:
        rules = Path(work) / "rules.yaml"
        rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
        checked = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True,
                                 text=True, check=False)
    if checked.returncode == 0:
        return []
    return [f"{name}: promtool check rules: " + (checked.stdout + checked.stderr).strip()]


def check_analysis(name: str, template: dict) -> list[str]:
    declared = {arg["name"] for arg in template["spec"].get("args", [])}
    faults, rules = [], []
    for metric in template["spec"]["metrics"]:
        where = f"{name} metric {metric['name']!r}"
        for key in ("successCondition", "failureLimit"):
            if key not in metric:
                faults.append(f"{where}: no {key}")
        query = (metric.get("provider", {}).get("prometheus") or {}).get("query")
        if query is None:
            continue
        undeclared = set(ARG.findall(query)) - declared
        if undeclared:
            faults.append(f"{where}: the query uses undeclared arguments {sorted(undeclared)}")
        rules.append({"record": "analysis:" + re.sub(r"\W", "_", metric["name"]),
                      "expr": ARG.sub("0123456789", query)})
    if rules:
        faults += promtool_check_rules(name, [{"name": "analysis-queries", "rules": rules}])
    return faults


def check_rollout_analysis(rollout, documents) -> list[str]:
    """Each analysis step names an AnalysisTemplate of the render and gives every argument
    the template declares without a value."""
    name = f"Rollout/{rollout['metadata']['name']}"
    templates = {doc["metadata"]["name"]: doc for doc in documents
                 if doc.get("kind") == "AnalysisTemplate"}
    canary = rollout["spec"].get("strategy", {}).get("canary", {})
    analyses = [step["analysis"] for step in canary.get("steps", []) if "analysis" in step]
    if "analysis" in canary:
        analyses.append(canary["analysis"])
    faults = []
    for analysis in analyses:
        given = {arg["name"] for arg in analysis.get("args", [])}
        for ref in analysis.get("templates", []):
            template = templates.get(ref.get("templateName"))
            if template is None:
                faults.append(f"{name}: an analysis names AnalysisTemplate "
                              f"{ref.get('templateName')!r}, which the render has not")
                continue
            needed = {arg["name"] for arg in template["spec"].get("args", [])
                      if "value" not in arg and "valueFrom" not in arg}
            if needed - given:
                faults.append(f"{name}: an analysis gives {ref['templateName']!r} no "
                              f"{sorted(needed - given)}")
    return faults


def check_scale_targets(documents) -> list[str]:
    objects = {(doc.get("apiVersion"), doc.get("kind"), doc["metadata"]["name"])
               for doc in documents}
    faults = []
    for hpa in (doc for doc in documents if doc.get("kind") == "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        if (ref.get("apiVersion"), ref["kind"], ref["name"]) not in objects:
            faults.append(f"HorizontalPodAutoscaler/{hpa['metadata']['name']}: scales "
                          f"{ref.get('apiVersion')} {ref['kind']}/{ref['name']}, which the "
                          "render has not")
    return faults


def check_dashboard(obj) -> list[str]:
    faults = []
    for key, text in (obj.get("data") or {}).items():
        try:
            dashboard = json.loads(text)
        except ValueError as error:
            return [f"ConfigMap/{obj['metadata']['name']}: {key} is not JSON ({error})"]
        exprs = [target["expr"] for panel in dashboard.get("panels", [])
                 for target in panel.get("targets", [])]
        if not exprs or not all(re.search(r"\bcatsite_", expr) for expr in exprs):
            faults.append(f"ConfigMap/{obj['metadata']['name']}: a panel queries no catsite metric")
    return faults


def check_scrape_ports(monitor, documents) -> list[str]:
    name = f"ServiceMonitor/{monitor['metadata']['name']}"
    selected = monitor["spec"]["selector"].get("matchLabels", {})
    services = [doc for doc in documents if doc.get("kind") == "Service"
                and selected.items() <= (doc["metadata"].get("labels") or {}).items()]
    if not services:
        return [f"{name}: selects no Service"]
    routed = {(path["backend"]["service"]["name"],
               path["backend"]["service"]["port"].get("name")
               or path["backend"]["service"]["port"].get("number"))
              for doc in documents if doc.get("kind") == "Ingress"
              for rule in doc["spec"].get("rules", [])
              for path in rule.get("http", {}).get("paths", [])}
    container_ports = {port.get("name") for doc in documents if doc.get("kind") in WORKLOADS
                       for container in doc["spec"]["template"]["spec"]["containers"]
                       for port in container.get("ports", [])}
    faults = []
    for endpoint in monitor["spec"].get("endpoints", []):
        for service in services:
            ports = {port.get("name"): port for port in service["spec"]["ports"]}
            port = ports.get(endpoint.get("port"))
            service_name = service["metadata"]["name"]
            if port is None:
                faults.append(f"{name}: Service/{service_name} has no port "
                              f"{endpoint.get('port')!r}")
            elif port.get("targetPort") not in container_ports:
                faults.append(f"{name}: port {port['name']!r} of Service/{service_name} leads to "
                              "no container port")
            elif {(service_name, port["name"]), (service_name, port["port"])} & routed:
                faults.append(f"{name}: port {port['name']!r} of Service/{service_name} is "
                              "routed by an Ingress: metrics would be public")
    return faults


def main(rendered: str, out: str) -> int:
    documents = [doc for doc in yaml.safe_load_all(Path(rendered).read_text()) if doc]
    faults, rest = [], []
    for doc in documents:
        if doc.get("kind") in KINDS:
            faults += check(doc)
            if doc["kind"] == "ServiceMonitor":
                faults += check_scrape_ports(doc, documents)
            elif doc["kind"] == "Rollout":
                faults += check_rollout_analysis(doc, documents)
                rest.append(as_deployment(doc))
        else:
            if doc.get("kind") == "ConfigMap" and "grafana_dashboard" in (
                    doc["metadata"].get("labels") or {}):
                faults += check_dashboard(doc)
            rest.append(doc)
    faults += check_scale_targets(documents)
    Path(out).write_text(yaml.safe_dump_all(rest, sort_keys=False, width=10**6))
    for fault in faults:
        print(fault, file=sys.stderr)
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
