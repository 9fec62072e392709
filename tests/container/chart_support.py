"""Paths and helpers of the deployment tests (the fixtures are in conftest.py)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "deploy" / "ci"
CHART = ROOT / "deploy" / "helm" / "catsite"
DIGEST = "sha256:" + "ab" * 32


def is_hook(obj):
    return "helm.sh/hook" in (obj["metadata"].get("annotations") or {})


def by_kind(objects, kind, hooks=False):
    """The objects of one kind: the release's own, or with hooks=True its hooks."""
    return [obj for obj in objects if obj["kind"] == kind and is_hook(obj) == hooks]


def one(objects, kind, hooks=False):
    found = by_kind(objects, kind, hooks)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]
