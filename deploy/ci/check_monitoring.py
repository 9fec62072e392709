"""Split a rendered manifest: the Prometheus Operator's objects (ServiceMonitor,
PrometheusRule), which kubernetes-validate has no schema for, are checked here against
deploy/ci/schemas/; every other object is written to OUT for validate-chart.sh's usual checks.
Grafana dashboards (ConfigMaps) must hold valid JSON whose queries name catsite metrics. A
ServiceMonitor must scrape a Service port that leads to a container port of the pods and that no
Ingress routes: the metrics live on a port of their own, never on the public one.

    python check_monitoring.py RENDERED OUT     (exit 1, with the reasons, on any fault)
"""
import json
import re
import sys
from pathlib import Path

import jsonschema
import yaml

SCHEMAS = Path(__file__).resolve().parent / "schemas"
KINDS = {"ServiceMonitor": "servicemonitor.json", "PrometheusRule": "prometheusrule.json"}


def check(obj) -> list[str]:
    name = f"{obj['kind']}/{obj['metadata'].get('name')}"
    schema = json.loads((SCHEMAS / KINDS[obj["kind"]]).read_text())
    validator = jsonschema.Draft7Validator(schema)
    faults = [f"{name}: {error.message} at {list(error.path)}"
              for error in validator.iter_errors(obj)]
    for group in obj.get("spec", {}).get("groups", []) if obj["kind"] == "PrometheusRule" else []:
        for rule in group.get("rules", []):
            expr = rule.get("expr", "")
            if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}"):
                faults.append(f"{name}: unbalanced brackets in {expr!r}")
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
    container_ports = {port.get("name") for doc in documents if doc.get("kind") == "Deployment"
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
        else:
            if doc.get("kind") == "ConfigMap" and "grafana_dashboard" in (
                    doc["metadata"].get("labels") or {}):
                faults += check_dashboard(doc)
            rest.append(doc)
    Path(out).write_text(yaml.safe_dump_all(rest, sort_keys=False, width=10**6))
    for fault in faults:
        print(fault, file=sys.stderr)
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
