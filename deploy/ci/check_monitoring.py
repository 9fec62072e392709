"""Split a rendered manifest: the Prometheus Operator's objects (ServiceMonitor,
PrometheusRule), which kubernetes-validate has no schema for, are checked here against
deploy/ci/schemas/; every other object is written to OUT for validate-chart.sh's usual checks.
Grafana dashboards (ConfigMaps) must hold valid JSON whose queries name catsite metrics.

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


def main(rendered: str, out: str) -> int:
    documents = [doc for doc in yaml.safe_load_all(Path(rendered).read_text()) if doc]
    faults, rest = [], []
    for doc in documents:
        if doc.get("kind") in KINDS:
            faults += check(doc)
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
