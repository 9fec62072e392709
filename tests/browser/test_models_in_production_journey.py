"""Journey: an editor reads "Models in production" at 1280 px: the admin's index leads there,
the chart is drawn (no script, nothing the CSP refuses) with its table beside it, and axe-core
finds nothing serious."""
import datetime
import re

from django.utils import timezone
from playwright.sync_api import expect

from classifier.models import Identification
from feedback import services
from species.models import Species
from testsupport.editors import log_in_on_page
from testsupport.feedback import identify, jpeg_with_gps

PHOTO = jpeg_with_gps()


def answers(version: str, days_ago: int, right: int, wrong: int, not_a_cat: int) -> None:
    """A day of answers of efficientnet-lite0 ``version``, with their verdicts."""
    lion = Species.objects.get(slug="lion")
    when = timezone.now() - datetime.timedelta(days=days_ago)
    made = []
    for verdict in ["right"] * right + ["wrong"] * wrong + [None] * not_a_cat:
        answer = identify(PHOTO, None if verdict is None else lion, model_name="efficientnet-lite0",
                          model_version=version)
        if verdict:
            services.feedback_create(identification_id=answer.pk, correct=verdict == "right",
                                     species=None if verdict == "right" else "tiger")
        made.append(answer.pk)
    Identification.objects.filter(pk__in=made).update(created_at=when)


def test_an_editor_reads_the_live_accuracy_of_each_version(site, staff_user):
    for days_ago, right, wrong, not_a_cat in ((9, 5, 2, 1), (8, 4, 3, 2), (7, 6, 1, 0)):
        answers("2026.11.01-1", days_ago, right, wrong, not_a_cat)
    for days_ago in (3, 2, 1, 0):
        answers("2026.12.07-1", days_ago, 6, 1, 1)

    page = site.new_page()  # 1280 x 800
    page.goto("/admin/")
    site.check(page)
    log_in_on_page(page)
    expect(page).to_have_url(re.compile(r"/admin/$"))
    site.check(page)
    page.get_by_role("link", name="Models in production").click()
    expect(page).to_have_url(re.compile(r"/admin/feedback/modelinproduction/$"))
    expect(page.get_by_role("heading", name="efficientnet-lite0 2026.12.07-1")).to_be_visible()
    charts = page.get_by_role("img", name=re.compile("confirmed share and not-a-cat share"))
    expect(charts).to_have_count(2)
    # Each day's values drawn: two lines (confirmed, not a cat) over 4 consecutive days.
    newest = charts.first
    assert newest.locator("polyline").count() == 2
    assert newest.locator(".chart-confirmed circle").count() == 4
    box = newest.bounding_box()
    assert box["width"] > 300 and box["height"] > 100, box
    expect(page.get_by_role("table", name=re.compile("2026.12.07-1 per day"))).to_be_visible()
    site.check(page)
    site.screenshot(page, "admin-models-in-production")

    page.get_by_role("link", name="the last 7 days").click()
    expect(page).to_have_url(re.compile(r"\?since=7$"))
    # The older version's last answers are 7 days old by now: out of the window.
    expect(page.get_by_role("heading", name="efficientnet-lite0 2026.12.07-1")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("2026.11.01-1"))).to_have_count(0)
    site.check(page)
