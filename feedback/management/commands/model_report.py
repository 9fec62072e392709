"""manage.py model_report: how each model version does in production, from the visitors' verdicts.

    manage.py model_report [--since DAYS] [--json FILE]

Per model name and version: the answers it gave (identifications), the share of them that said
"not a cat", the verdicts on them (feedback), the share the visitors confirmed with its 95 %
Wilson interval, and the corrections (what was answered -> what visitors said it is); then
the drift of each version over the last DRIFT_WINDOW_DAYS (the population stability index of
its answers and of its top answers' probabilities against its package's reference profile). Each
verdict counts for the version and day of the answer it is about. ``--since DAYS``: answers of
the last DAYS days only (default: all time). ``--json FILE`` writes the whole report, daily
numbers included (``-``: to standard output instead of the table); the fields are documented
in docs/operations.md. ``-v 2`` adds the daily numbers to the table. The admin page "Models in
production" shows the same (feedback/live_accuracy.py computes both).
"""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from catmodel.evaluation.drift import PSI_MAJOR, PSI_MODERATE
from catmodel.evaluation.text import columns, percent_text
from feedback.live_accuracy import model_report, parse_since

COLUMNS = ("model", "version", "identifications", "not a cat", "feedback", "confirmed",
           "95% interval")


class Command(BaseCommand):
    help = ("Per model version in production: identifications, feedback, the share confirmed "
            "with its 95% Wilson interval, corrections by true label, the not-a-cat share.")

    def add_arguments(self, parser):
        parser.add_argument("--since", metavar="DAYS", default=None,
                            help="only the answers of the last DAYS days (default: all time)")
        parser.add_argument("--json", metavar="FILE", default=None,
                            help="write the report as JSON to FILE ('-': standard output, "
                                 "instead of the table)")

    def handle(self, *args, **options):
        try:
            since_days = parse_since(options["since"])
        except ValueError as exc:
            raise CommandError(f"--since: {exc}") from None
        report = model_report(since_days=since_days)
        target = options["json"]
        if target == "-":
            self.stdout.write(json.dumps(report, indent=2))
            return
        if target:
            try:
                with open(target, "w", encoding="utf-8") as out:
                    out.write(json.dumps(report, indent=2) + "\n")
            except OSError as exc:
                raise CommandError(f"--json: cannot write {target}: {exc.strerror}") from None
        if options["verbosity"] >= 1:
            self.stdout.write(report_text(report, daily=options["verbosity"] >= 2))
        if target and options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"Wrote {target}"))


def report_text(report: dict, *, daily: bool = False) -> str:
    """The report as the command prints it: one table of versions, then each version's
    corrections (and with ``daily`` its days)."""
    window = (f"the last {report['since_days']} day(s)" if report["since_days"]
              else "all time")
    lines = [f"Models in production, {window}: each verdict counts for the version and "
             f"{report['days_in']} day of the answer it is about."]
    if not report["versions"]:
        lines.append("No answers recorded in that time.")
        return "\n".join(lines)
    rows = [COLUMNS]
    for v in report["versions"]:
        rows.append((v["model"], v["version"], str(v["identifications"]),
                     percent_text(v["not_a_cat_share"]), str(v["feedback"]),
                     _confirmed(v["confirmed"]), _interval(v["confirmed"])))
    lines += ["", *columns(rows, left=2, indent="", rule=True)]
    lines += ["", *drift_text(report["versions"])]
    for v in report["versions"]:
        if v["corrections"]:
            lines += ["", f"{v['model']} {v['version']}: corrections (answered -> visitors' label)",
                      *columns([(c["predicted"], "->", c["true_label"] or "(entry deleted)",
                                 str(c["count"])) for c in v["corrections"]], left=3)]
        if daily:
            lines += ["", f"{v['model']} {v['version']}: per day",
                      *columns([("day", "identifications", "not a cat", "feedback", "confirmed",
                                "95% interval")]
                              + [(d["date"], str(d["identifications"]),
                                  percent_text(d["not_a_cat_share"]), str(d["feedback"]),
                                  _confirmed(d["confirmed"]), _interval(d["confirmed"]))
                                 for d in v["daily"]], indent="", rule=True)]
    return "\n".join(lines)


def drift_text(versions: list[dict]) -> list[str]:
    """The drift table: each version's indices over the drift window, and why one has none."""
    window = versions[0]["drift"]["window_days"]
    lines = [f"Drift over the last {window} day(s) against each version's reference profile "
             f"(population stability index: below {PSI_MODERATE} stable, {PSI_MODERATE} to "
             f"{PSI_MAJOR} worth a look, above {PSI_MAJOR} a major shift):", ""]
    rows = [("model", "version", "identifications", "confidence", "answers")]
    notes = []
    for v in versions:
        drift = v["drift"]
        rows.append((v["model"], v["version"], str(drift["identifications"]),
                     *(_psi(drift[signal], drift["readings"].get(signal))
                       for signal in ("confidence", "answers"))))
        if drift["note"]:
            notes.append(f"  {v['model']} {v['version']}: no index, {drift['note']}")
    return [*lines, *columns(rows, left=2, indent="  ", rule=True), *notes]


def _psi(value: float | None, reading: str | None) -> str:
    return "-" if value is None else f"{value:.3f} ({reading})"


def _confirmed(confirmed: dict) -> str:
    return f"{percent_text(confirmed['share'])} ({confirmed['count']})"


def _interval(confirmed: dict) -> str:
    if confirmed["share"] is None:
        return "-"
    return f"{percent_text(confirmed['wilson_low'])} to {percent_text(confirmed['wilson_high'])}"
