"""The admin page "Models in production": per model version, its answers, the share of verdicts
that confirmed them (with the 95 % Wilson interval), the corrections, the not-a-cat share, and
both shares per day as a chart drawn here (inline SVG, no script) with its table beside it.
The numbers are feedback/live_accuracy.py's, as manage.py model_report prints them.

Reached from the admin's index through a proxy model (feedback.models.ModelInProduction), as the
list of content clashes is (species/admin_clashes.py): apps register with the admin, they never
import the project. Who may read the feedback may read this page.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from core.readonly_admin import ReadOnlyAdmin
from feedback.live_accuracy import model_report, parse_since
from feedback.models import ModelInProduction

# The chart's drawing area, in SVG user units (it scales to the page's width).
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 12, 32
GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class Series:
    key: str     # CSS class: chart-confirmed, chart-not-a-cat
    name: str
    points: list[tuple[float, float, str]]  # x, y, and what the point says (its tooltip)
    days: list[int]                         # each point's day, counted from the first

    @property
    def lines(self) -> list[str]:
        """The polylines' points: a line joins only consecutive days; a day without a value
        (no answers, or no verdicts) breaks it."""
        runs: list[list[tuple[float, float, str]]] = []
        for i, point in enumerate(self.points):
            if i and self.days[i] == self.days[i - 1] + 1:
                runs[-1].append(point)
            else:
                runs.append([point])
        return [" ".join(f"{x},{y}" for x, y, _ in run) for run in runs if len(run) > 1]


def chart(daily: list[dict]) -> dict:
    """Where the days' shares go in a WIDTH x HEIGHT drawing: x by date (gaps stay gaps), y
    from 0 % at the bottom to 100 % at the top. The confirmed share only on days with verdicts."""
    days = [datetime.date.fromisoformat(d["date"]) for d in daily]
    span = max((days[-1] - days[0]).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: datetime.date) -> float:
        offset = (day - days[0]).days / span if len(days) > 1 else 0.5
        return round(LEFT + offset * plot_w, 1)

    def y(value: float) -> float:
        return round(TOP + (1 - value) * plot_h, 1)

    def series(key: str, name: str, value, says) -> Series:
        kept = [(day, d) for day, d in zip(days, daily, strict=True) if value(d) is not None]
        return Series(key, name, [(x(day), y(value(d)), says(d)) for day, d in kept],
                      [(day - days[0]).days for day, _ in kept])

    confirmed = series(
        "chart-confirmed", "confirmed share", lambda d: d["confirmed"]["share"],
        lambda d: f"{d['date']}: {d['confirmed']['share']:.0%} of {d['feedback']} confirmed")
    not_a_cat = series(
        "chart-not-a-cat", "not-a-cat share", lambda d: d["not_a_cat_share"],
        lambda d: f"{d['date']}: {d['not_a_cat_share']:.0%} of {d['identifications']} not a cat")
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT,
        "bottom": TOP + plot_h,
        "grid": [{"y": y(g), "label": f"{g:.0%}"} for g in GRID],
        # The first and the last day under the axis (one day: in the middle).
        "dates": ([{"x": x(days[0]), "label": daily[0]["date"], "anchor": "start"},
                   {"x": x(days[-1]), "label": daily[-1]["date"], "anchor": "end"}]
                  if len(days) > 1 else
                  [{"x": x(days[0]), "label": daily[0]["date"], "anchor": "middle"}]),
        "label_y": TOP + plot_h + 20,
        "series": [confirmed, not_a_cat],
    }


@admin.register(ModelInProduction)
class ModelsInProductionAdmin(ReadOnlyAdmin):
    class Media:
        css = {"all": ("css/admin.css",)}

    def has_view_permission(self, request, obj=None):
        # The page aggregates the feedback: its readers may read it too.
        return (request.user.has_perm("feedback.view_feedback")
                or super().has_view_permission(request, obj))

    def get_urls(self):
        # One page: no list of rows, nothing to change.
        return [path("", self.admin_site.admin_view(self.changelist_view),
                     name="feedback_modelinproduction_changelist")]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        error = None
        try:
            since_days = parse_since(request.GET.get("since"))
        except ValueError as exc:
            error, since_days = f"since: {exc}. Showing all time.", None
        report = model_report(since_days=since_days)
        versions = [{**v, "chart": chart(v["daily"])} for v in report["versions"]]
        context = {
            **self.admin_site.each_context(request),
            "title": "Models in production",
            "opts": self.model._meta,
            "media": self.media,
            "report": report,
            "versions": versions,
            "since_days": since_days,
            "since_error": error,
            "windows": (7, 30, 90),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/feedback/models_in_production.html", context)
