"""Two model packages side by side on the same photos: overall and per label, what each gets
right that the other does not, and whether that difference is more than chance. What
``manage.py compare_models`` prints and writes, and what the champion gate prints when it
decides (catmodel/delivery/gate.py). Pure Python: no Django, no matplotlib (plot.py draws).

    comparison = compare(predictions_a, predictions_b, a_name="champion 1.0.0", ...)
    print(comparison.table())
    comparison.as_dict()

Both ``Predictions`` (evaluate.py) must come from the same split of the same dataset, so every
photo is answered by both. Two packages with different model labels are compared in the
dataset's terms (answers.py), as evaluate_model scores each.

The disagreement counts are McNemar's: ``a_only`` photos A gets right and B wrong, ``b_only``
the other way round. Under "the two are equally good" each disagreement is a fair coin, so the
exact two-sided p-value is the binomial tail of the smaller count (McNemar 1947; the exact form
as in Fagerland, Lydersen and Laake, "The McNemar test for binary matched-pairs data", 2013).
A small p-value (say below 0.05) says the difference is unlikely to be luck on these photos; a
large one says these photos cannot tell the two apart, which on a small test split is common.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from catmodel.errors import AppError

from .evaluate import Evaluation, Predictions, summarise
from .text import columns as _columns
from .text import percent_text as _percent

SHOWN_PHOTOS = 10  # disagreeing photos the table lists per side; --json has them all


class ComparisonError(AppError):
    """The two packages were not evaluated on the same photos; the message says what to do."""

    code = "comparison_invalid"
    status = 400
    default_message = "The two evaluations cannot be compared."


@dataclass(frozen=True)
class Comparison:
    a: dict            # name (what the caller calls it), model {name, version}, the numbers
    b: dict
    dataset: dict      # sha256, split, count (and root when the caller gives it)
    overall: dict      # both, a_only, b_only, neither, mcnemar_p_value, top1_difference
    per_label: dict    # label -> support, a, b ({correct, precision, recall}), both, a_only, b_only
    photos: dict       # a_only, b_only: [{file, label, a_answer, b_answer}]

    def as_dict(self) -> dict:
        """The documented JSON (docs: compare_models --json)."""
        return {"a": self.a, "b": self.b, "dataset": self.dataset, "overall": self.overall,
                "per_label": self.per_label, "photos": self.photos}

    def table(self) -> str:
        """The side-by-side text compare_models and the gate print (several lines)."""
        a, b, overall, count = self.a, self.b, self.overall, self.dataset["count"]
        lines = [f"Comparison on {count} photo(s) of the {self.dataset['split']} split"
                 + (f" of {self.dataset['root']}" if self.dataset.get("root") else "")
                 + f" (dataset sha256 {self.dataset['sha256'][:12]})",
                 f"  A: {describe(a)}", f"  B: {describe(b)}", ""]
        rows: list[tuple[str, ...]] = [("", "A", "B", "B - A"),
                ("top-1 accuracy", _percent(a["top1_accuracy"]), _percent(b["top1_accuracy"]),
                 _points(overall["top1_difference"])),
                ("top-5 accuracy", _percent(a["top5_accuracy"]), _percent(b["top5_accuracy"]),
                 _points(b["top5_accuracy"] - a["top5_accuracy"])),
                ("photos right", f"{a['correct']}/{count}", f"{b['correct']}/{count}",
                 f"{b['correct'] - a['correct']:+d}"),
                ("not-a-cat recall", _percent(a["not_a_cat"]["recall"]),
                 _percent(b["not_a_cat"]["recall"]), "")]
        lines += _columns(rows, left=1)
        disagreements = overall["a_only"] + overall["b_only"]
        lines += ["", f"Photos: both right {overall['both']}, only A right {overall['a_only']}, "
                      f"only B right {overall['b_only']}, neither {overall['neither']}",
                  f"McNemar exact p = {overall['mcnemar_p_value']:.3g} on the {disagreements} "
                  f"photo(s) they disagree on: {_verdict(overall['mcnemar_p_value'])}", ""]
        rows = [("label", "photos", "A right", "B right", "only A", "only B", "A precision",
                 "B precision", "A recall", "B recall")]
        for label, entry in self.per_label.items():
            rows.append((label, str(entry["support"]), str(entry["a"]["correct"]),
                         str(entry["b"]["correct"]), str(entry["a_only"]), str(entry["b_only"]),
                         _percent(entry["a"]["precision"]), _percent(entry["b"]["precision"]),
                         _percent(entry["a"]["recall"]), _percent(entry["b"]["recall"])))
        lines += _columns(rows, left=1)
        for side in ("a", "b"):
            photos = self.photos[f"{side}_only"]
            if not photos:
                continue
            lines += ["", f"Only {side.upper()} right ({len(photos)}):"]
            lines += [f"  {photo['file']}  {photo['label']}: A {photo['a_answer']}, "
                      f"B {photo['b_answer']}" for photo in photos[:SHOWN_PHOTOS]]
            if len(photos) > SHOWN_PHOTOS:
                lines.append(f"  ... and {len(photos) - SHOWN_PHOTOS} more (--json lists them)")
        return "\n".join(lines)


def compare(a: Predictions, b: Predictions, *, a_name: str = "A", b_name: str = "B",
            root: str | None = None) -> Comparison:
    """A against B on the photos both answered. ComparisonError when they did not answer the
    same photos of the same dataset in the same terms."""
    _same_photos(a, b)
    evaluation_a, evaluation_b = summarise(a), summarise(b)
    right_a, right_b = a.correct, b.correct
    a_only = [i for i, (x, y) in enumerate(zip(right_a, right_b, strict=True)) if x and not y]
    b_only = [i for i, (x, y) in enumerate(zip(right_a, right_b, strict=True)) if y and not x]
    both = sum(x and y for x, y in zip(right_a, right_b, strict=True))
    only_a, only_b = set(a_only), set(b_only)
    per_label = {}
    for index, label in enumerate(a.labels):
        members = [i for i, t in enumerate(a.truth) if t == index]
        per_label[label] = {
            "support": len(members),
            "a": _label_side(evaluation_a, label, sum(right_a[i] for i in members)),
            "b": _label_side(evaluation_b, label, sum(right_b[i] for i in members)),
            "both": sum(right_a[i] and right_b[i] for i in members),
            "a_only": len(only_a.intersection(members)),
            "b_only": len(only_b.intersection(members)),
        }
    dataset = {**a.dataset, "count": len(a.truth)}
    if root is not None:
        dataset["root"] = str(root)
    return Comparison(
        a=_side(a_name, evaluation_a, sum(right_a)),
        b=_side(b_name, evaluation_b, sum(right_b)),
        dataset=dataset,
        overall={"both": both, "a_only": len(a_only), "b_only": len(b_only),
                 "neither": len(right_a) - both - len(a_only) - len(b_only),
                 "mcnemar_p_value": mcnemar_exact(len(a_only), len(b_only)),
                 "top1_difference": evaluation_b.top1_accuracy - evaluation_a.top1_accuracy},
        per_label=per_label,
        photos={"a_only": [_photo(a, b, i) for i in a_only],
                "b_only": [_photo(a, b, i) for i in b_only]},
    )


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value of ``b`` and ``c`` discordant pairs: twice the binomial
    (n = b + c, 1/2) tail at the smaller count, at most 1; 1 when there is no disagreement."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def _same_photos(a: Predictions, b: Predictions) -> None:
    if a.dataset != b.dataset:
        raise ComparisonError(
            f"the two evaluations are of different data ({a.dataset['split']} split of dataset "
            f"{a.dataset['sha256'][:12]} and {b.dataset['split']} split of "
            f"{b.dataset['sha256'][:12]}): evaluate both packages on the same split of one "
            "dataset folder")
    if a.files != b.files or a.truth != b.truth:
        raise ComparisonError("the two evaluations answered different photos: evaluate both "
                              "packages on the same split of one dataset folder")
    if a.answers != b.answers:
        raise ComparisonError(
            f"the two evaluations count different labels ({', '.join(a.labels)} against "
            f"{', '.join(b.labels)}): evaluate both packages on the same dataset folder")
    if a.cat_threshold != b.cat_threshold:
        raise ComparisonError(f"the two evaluations use different cat thresholds "
                              f"({a.cat_threshold:g} and {b.cat_threshold:g}): use one")


def _side(name: str, evaluation: Evaluation, correct: int) -> dict:
    return {"name": name, "model": evaluation.model, "correct": correct,
            "top1_accuracy": evaluation.top1_accuracy,
            "top5_accuracy": evaluation.top5_accuracy,
            "not_a_cat": evaluation.not_a_cat,
            "expected_calibration_error": evaluation.expected_calibration_error}


def _label_side(evaluation: Evaluation, label: str, correct: int) -> dict:
    numbers = evaluation.per_label[label]
    return {"correct": correct, "precision": numbers["precision"], "recall": numbers["recall"],
            "predicted": numbers["predicted"]}


def _photo(a: Predictions, b: Predictions, i: int) -> dict:
    return {"file": a.files[i], "label": a.labels[a.truth[i]],
            "a_answer": a.answers[a.predicted[i]], "b_answer": b.answers[b.predicted[i]]}


def describe(side: dict) -> str:
    """One side in words: what the caller calls it and the model's name and version."""
    model = f"{side['model']['name']} {side['model']['version']}"
    return model if side["name"] in ("A", "B", model) else f"{side['name']} ({model})"


def _points(difference: float) -> str:
    return f"{100 * difference:+.1f} pt"


def _verdict(p_value: float) -> str:
    return ("a difference beyond chance on these photos" if p_value < 0.05
            else "not beyond chance on these photos")
