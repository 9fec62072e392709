"""The admin page "Models in production" (feedback/admin_models.py): staff read the live
accuracy of each version with its chart and tables; nobody else does."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from feedback.admin_models import BOTTOM, HEIGHT, LEFT, TOP, chart

pytestmark = pytest.mark.django_db
PAGE = reverse("admin:feedback_modelinproduction_changelist")


def section(html: str, version: str) -> str:
    """The part of the page about one version (catnet ``version``)."""
    start = html.index(f">catnet {version}</h2>")
    return html[start:html.index("</section>", start)]


def test_the_admin_index_leads_to_the_page(staff_client):
    index = staff_client.get(reverse("admin:index")).content.decode()
    assert f'<a href="{PAGE}">Models in production</a>' in index


def test_staff_read_each_version(staff_client, history):
    response = staff_client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert [(v["version"], v["identifications"], v["feedback"])
            for v in response.context["versions"]] == [("2.0", 3, 2), ("1.0", 9, 7)]
    old = section(html, "1.0")
    # Share confirmed with its 95 % Wilson interval (3 of 7), the not-a-cat share (2 of 9).
    assert "9 answers from" in old and "22.2% of them “not a cat”" in old
    assert "7 verdicts, 42.9% confirmed (15.8% to 75.0%)" in old
    assert "<td>lion</td><td>tiger</td><td class=\"number\">2</td>" in old
    assert "<td>lynx</td><td>eurasian-lynx</td><td class=\"number\">1</td>" in old
    # The chart and the table of its numbers beside it, a row per day.
    assert old.count("<svg ") == 1 and 'role="img"' in old and "<title id=\"chart-title-" in old
    assert len(re.findall(r"<tr><th scope=\"row\">\d{4}-\d\d-\d\d</th>", old)) == 3
    assert f"<th scope=\"row\">{history.day(3)}</th><td class=\"number\">5</td>" in old
    # Drawn with classes only: the CSP allows no inline style.
    assert "style=" not in html.split("<body", 1)[1]
    assert "No corrections." in section(html, "2.0")


def test_a_window_from_the_query_string(staff_client, history):
    response = staff_client.get(PAGE, {"since": "30"})
    assert [(v["version"], v["identifications"]) for v in response.context["versions"]] == [
        ("2.0", 3), ("1.0", 8)]
    html = response.content.decode()
    assert '<strong aria-current="page">the last 30 days</strong>' in html
    assert "manage.py model_report --since 30" in html


def test_a_bad_window_says_so_and_shows_all_time(staff_client, history):
    response = staff_client.get(PAGE, {"since": "week"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "since: &#x27;week&#x27; is not a whole number of days, 1 or more" in html
    assert response.context["since_days"] is None
    assert [v["identifications"] for v in response.context["versions"]] == [3, 9]


def test_nothing_answered_yet(staff_client):
    assert "No answers recorded in that time." in staff_client.get(PAGE).content.decode()


def test_nobody_else_reads_it(client, django_user_model, history):
    response = client.get(PAGE)  # anonymous: to the login page
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    visitor = django_user_model.objects.create_user("visitor", password="a-long-password-1")
    client.force_login(visitor)  # logged in, not staff: to the login page as well
    response = client.get(PAGE)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    junior = django_user_model.objects.create_user("junior", password="a-long-password-1",
                                                   is_staff=True)
    client.force_login(junior)  # staff without the right to read feedback
    assert client.get(PAGE).status_code == 403
    assert PAGE not in client.get(reverse("admin:index")).content.decode()
    junior.user_permissions.add(Permission.objects.get(codename="view_feedback"))
    client.force_login(django_user_model.objects.get(pk=junior.pk))
    assert client.get(PAGE).status_code == 200


def day(date, identifications, not_a_cat, feedback=0, confirmed=0):
    return {"date": date, "identifications": identifications,
            "not_a_cat_share": not_a_cat / identifications, "feedback": feedback,
            "confirmed": {"count": confirmed,
                          "share": confirmed / feedback if feedback else None}}


def test_the_chart_places_days_by_date_and_breaks_its_lines_at_gaps():
    drawn = chart([day("2026-11-01", 4, 1, 2, 2), day("2026-11-02", 4, 0),
                   day("2026-11-03", 2, 2, 4, 1), day("2026-11-11", 5, 0, 5, 0)])
    confirmed, not_a_cat = drawn["series"]
    bottom = HEIGHT - BOTTOM
    # x by date: the 3rd of November is 2 of the 10 days in; y: 100 % at the top.
    assert [p[:2] for p in confirmed.points] == [
        (LEFT, TOP), (pytest.approx(LEFT + 0.2 * (drawn["right"] - LEFT), abs=0.1),
                      pytest.approx(TOP + 0.75 * (bottom - TOP), abs=0.1)),
        (drawn["right"], bottom)]
    assert confirmed.points[0][2] == "2026-11-01: 100% of 2 confirmed"
    # The 2nd had no verdicts and the 4th to 10th no answers: no confirmed line at all.
    assert confirmed.lines == []
    # The not-a-cat share is drawn every day with answers: one line over the first three.
    assert len(not_a_cat.points) == 4 and len(not_a_cat.lines) == 1
    assert len(not_a_cat.lines[0].split()) == 3
    assert [d["label"] for d in drawn["dates"]] == ["2026-11-01", "2026-11-11"]


def test_a_chart_of_one_day_is_a_dot_in_the_middle():
    drawn = chart([day("2026-11-01", 4, 1)])
    confirmed, not_a_cat = drawn["series"]
    assert confirmed.points == [] and not_a_cat.lines == []
    assert not_a_cat.points[0][0] == pytest.approx((LEFT + drawn["right"]) / 2)
    assert drawn["dates"] == [{"x": not_a_cat.points[0][0], "label": "2026-11-01",
                               "anchor": "middle"}]


def test_drift_per_version(staff_client, history, catnet_2_reference):
    html = staff_client.get(PAGE).content.decode()
    new, old = section(html, "2.0"), section(html, "1.0")
    assert "<h3>Drift against the reference</h3>" in new
    assert "of the last 7 days (3 answers) against the test split (2 photos)" in new
    # The numbers of test_model_report.py: answers 0.116 (moderate), confidence 4.604 (major).
    assert 'answers</th><td class="number">0.116</td><td>moderate</td>' in new
    assert 'probability</th><td class="number">4.604</td><td>major</td>' in new
    assert "No drift index: no reference profile" in old
