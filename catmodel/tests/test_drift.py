"""catmodel.evaluation.drift: the population stability index on numbers worked out by hand, the
profile's bins, and recording a profile in a package (which stays valid; a signed one is left
alone). The site's answers on real photos are in classifier/tests/test_drift.py."""
from __future__ import annotations

import json
import math

import pytest

from catmodel.evaluation import drift
from catmodel.inference.package import MANIFEST, read_manifest, verify
from testsupport.tiny_package import write_package


def test_psi_by_hand():
    # (0.5 - 0.25) ln(0.5 / 0.25) + (0.5 - 0.75) ln(0.5 / 0.75)
    assert drift.psi([0.25, 0.75], [0.5, 0.5]) == pytest.approx(
        0.25 * math.log(2) - 0.25 * math.log(2 / 3))
    assert drift.psi([0.25, 0.75], [0.5, 0.5]) == pytest.approx(0.274653, abs=1e-6)
    # Three bins: 0.1 ln(0.4/0.3) + 0 + (-0.1) ln(0.2/0.3)
    assert drift.psi([0.3, 0.4, 0.3], [0.4, 0.4, 0.2]) == pytest.approx(
        0.1 * math.log(4 / 3) + 0.1 * math.log(3 / 2))


def test_identical_distributions_give_zero_and_the_index_is_symmetric():
    shares = [0.1, 0.0, 0.2, 0.7]
    assert drift.psi(shares, shares) == 0.0
    assert drift.psi({"lion": 0.6, "not_a_cat": 0.4}, {"not_a_cat": 0.4, "lion": 0.6}) == 0.0
    assert drift.psi([0.2, 0.8], [0.6, 0.4]) == pytest.approx(drift.psi([0.6, 0.4], [0.2, 0.8]))


def test_an_empty_bin_counts_as_epsilon():
    # The reference never answered "Lynx"; live, it is a tenth of the answers.
    expected = {"lion": 1.0}
    actual = {"lion": 0.9, "Lynx": 0.1}
    by_hand = ((0.9 - 1.0) * math.log(0.9 / 1.0)
               + (0.1 - drift.EPSILON) * math.log(0.1 / drift.EPSILON))
    assert drift.psi(expected, actual) == pytest.approx(by_hand)
    assert drift.psi(expected, actual) > drift.PSI_MAJOR
    assert drift.psi([0.0, 1.0], [0.0, 1.0]) == 0.0  # finite, and nothing changed


def test_shares_per_bin_and_per_category_do_not_mix():
    with pytest.raises(TypeError):
        drift.psi([0.5, 0.5], {"lion": 1.0})
    with pytest.raises(ValueError, match="2 expected shares but 3"):
        drift.psi([0.5, 0.5], [0.2, 0.3, 0.5])


def test_confidence_bins_hold_their_upper_edge():
    edges = drift.CONFIDENCE_EDGES
    # (0, 0.1] holds 0 and 0.1; (0.9, 0.95] holds 0.95; (0.99, 1] holds 1.
    shares = drift.confidence_shares([0.0, 0.1, 0.1000001, 0.95, 0.999, 1.0], edges)
    assert len(shares) == len(edges) - 1
    assert shares[0] == pytest.approx(2 / 6)
    assert shares[1] == pytest.approx(1 / 6)
    assert shares[edges.index(0.9)] == pytest.approx(1 / 6)
    assert shares[-1] == pytest.approx(2 / 6)
    assert sum(shares) == pytest.approx(1.0)
    assert drift.confidence_shares([], edges) == [0.0] * (len(edges) - 1)


def test_a_profile_and_its_drift():
    reference = drift.profile(["lion", "lion", "not_a_cat", "Lynx"], [0.97, 0.92, 0.55, 0.6],
                              split="test", cat_threshold=0.5)
    assert reference.count == 4
    assert reference.answer_shares == {"lion": 0.5, "Lynx": 0.25, "not_a_cat": 0.25}
    assert reference == drift.Profile.from_dict(json.loads(json.dumps(reference.as_dict())))
    same = drift.profile(["Lynx", "lion", "not_a_cat", "lion"], [0.6, 0.92, 0.55, 0.97])
    assert drift.drift(reference, same) == {"confidence": 0.0, "answers": 0.0}
    shifted = drift.profile(["not_a_cat"] * 4, [0.55] * 4)
    numbers = drift.drift(reference, shifted)
    assert numbers["answers"] == pytest.approx(drift.psi(reference.answer_shares,
                                                         {"not_a_cat": 1.0}))
    assert numbers["confidence"] > drift.PSI_MAJOR and numbers["answers"] > drift.PSI_MAJOR


def test_a_manifest_without_a_profile_has_no_reference(tmp_path):
    package = write_package(tmp_path / "old")
    assert drift.reference_of(read_manifest(package).raw) is None
    assert drift.reference_of({drift.PROFILE_KEY: {"count": 3}}) is None
    assert drift.reference_of({drift.PROFILE_KEY: "nonsense"}) is None


def test_recording_a_profile_keeps_the_package_valid(tmp_path):
    package = write_package(tmp_path / "package")
    before = read_manifest(package).raw
    reference = drift.profile(["red", "not_a_cat"], [0.9, 0.4], split="validation")
    path = drift.record_profile(package, reference)
    assert path == (package / MANIFEST).resolve()
    manifest = verify(package)  # every file as listed, nothing unlisted left behind
    assert sorted(p.name for p in package.iterdir()) == ["manifest.json", "model.onnx"]
    assert drift.reference_of(manifest.raw) == reference
    assert {k: v for k, v in manifest.raw.items() if k != drift.PROFILE_KEY} == before
    # Recorded again (another evaluation): replaced, not added.
    again = drift.profile(["red"], [0.99], split="test")
    drift.record_profile(package, again.as_dict())
    assert drift.reference_of(verify(package).raw) == again


def test_a_signed_package_is_left_as_it_is(tmp_path):
    package = write_package(tmp_path / "package")
    (package / "model.sig").write_bytes(b"{}")
    before = (package / MANIFEST).read_bytes()
    with pytest.raises(drift.PackageSigned, match="is signed"):
        drift.record_profile(package, drift.profile(["red"], [0.9]))
    assert (package / MANIFEST).read_bytes() == before
