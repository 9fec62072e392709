"""Convert a CustomResourceDefinition's openAPIV3Schema into the JSON Schema (draft 7) that
check_monitoring.py validates rendered objects against (kubernetes-validate has no schemas for
CRDs). Run it again to follow a new release of the CRD's project:

    python deploy/ci/crd_schema.py CRD.yaml VERSION OUT.json "SOURCE NOTE"

e.g. for Argo Rollouts (manifests/crds/rollout-crd.yaml and analysis-template-crd.yaml of
github.com/argoproj/argo-rollouts at a release tag):

    python deploy/ci/crd_schema.py rollout-crd.yaml v1alpha1 deploy/ci/schemas/rollout.json \
        "argoproj/argo-rollouts v1.9.1 (b6bd3bc) manifests/crds/rollout-crd.yaml"

What changes, as the API server reads the schema: an object with `properties` refuses other
fields (the API server prunes them; kubernetes-validate --strict refuses them too) unless it
preserves unknown fields; `x-kubernetes-int-or-string` is an integer or a string; `nullable`
admits null; the other `x-kubernetes-*` keys and `format` (int32, int64: JSON Schema knows no
such formats) are dropped; apiVersion, kind and metadata.name are required to be the CRD's.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

DROPPED = {"format"}


def convert(node):
    if isinstance(node, list):
        return [convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in DROPPED or key == "nullable":
            continue
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {name: convert(child) for name, child in value.items()}
        else:
            out[key] = convert(value)
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if ("properties" in node and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def schema_of(crd: dict, version: str, source: str) -> dict:
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = convert(served["schema"]["openAPIV3Schema"])
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    properties = schema.setdefault("properties", {})
    properties["apiVersion"] = {"const": f"{group}/{version}"}
    properties["kind"] = {"const": kind}
    properties["metadata"] = {"type": "object", "required": ["name", "namespace"]}
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    schema.pop("additionalProperties", None)  # status and the like stay the server's
    return {"$schema": "http://json-schema.org/draft-07/schema#",
            "$comment": f"{group}/{version} {kind}, converted by deploy/ci/crd_schema.py from "
                        f"{source}.", **schema}


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        sys.exit(__doc__)
    crd_path, version, out, source = argv[1:]
    crd = yaml.safe_load(Path(crd_path).read_text())
    Path(out).write_text(json.dumps(schema_of(crd, version, source), indent=1, sort_keys=True)
                         + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
