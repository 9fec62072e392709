"""The review queue in admin: the photo for staff only, filters, bulk review, counts, deletion."""
import io

import pytest
from django.urls import reverse

from feedback import photos, services
from feedback.models import Feedback
from testsupport.feedback import has_location, identify, jpeg_with_gps

pytestmark = pytest.mark.django_db
PHOTO = jpeg_with_gps()
CHANGELIST = "admin:feedback_feedback_changelist"


@pytest.fixture
def feedbacks(make_species):
    tabby = make_species(common_name="Tabby test", slug="tabby-test", kind="breed")
    make_species(common_name="Lynx test", slug="lynx-test")
    corrected = services.feedback_create(
        identification_id=identify(PHOTO, tabby).id, correct=False, species="lynx-test",
        share_photo=True, photo=io.BytesIO(PHOTO))
    confirmed = services.feedback_create(
        identification_id=identify(PHOTO, tabby, model_version="2.0.0").id, correct=True)
    return corrected, confirmed


def photo_url(feedback):
    return reverse("admin:feedback_feedback_photo", args=[feedback.pk])


def test_staff_see_the_photo_without_its_location(staff_client, feedbacks):
    response = staff_client.get(photo_url(feedbacks[0]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    data = b"".join(response.streaming_content)
    assert data == photos.read(feedbacks[0].photo) and not has_location(data)


def test_nobody_else_sees_the_photo(client, django_user_model, feedbacks):
    url = photo_url(feedbacks[0])
    response = client.get(url)  # anonymous: sent to the login page, no photo
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    visitor = django_user_model.objects.create_user("visitor", password="a-long-password-1")
    client.force_login(visitor)
    assert client.get(url).status_code == 302  # not staff
    editor = django_user_model.objects.create_user("junior", password="a-long-password-1",
                                                   is_staff=True)
    client.force_login(editor)
    assert client.get(url).status_code == 403  # staff without the view permission


def test_the_photo_is_on_no_public_url(client, feedbacks, settings):
    name = feedbacks[0].photo
    assert client.get(f"{settings.MEDIA_URL}{name}").status_code == 404
    assert client.get(f"/media/../feedback-photos/{name}").status_code in (400, 404)
    with pytest.raises(ValueError, match="no public URL"):
        photos.storage().url(name)


def test_the_queue_lists_filters_and_counts(staff_client, feedbacks):
    corrected, confirmed = feedbacks
    page = staff_client.get(reverse(CHANGELIST)).content.decode()
    assert "Accepted photos per label" in page and "No accepted photo yet." in page
    assert "lynx-test" in page and "tabby-test" in page

    def listed(query):
        response = staff_client.get(reverse(CHANGELIST) + query)
        assert response.status_code == 200
        return {f.pk for f in response.context["cl"].result_list}

    # Only the shared photo waits for review; the confirmation without one has nothing to.
    assert listed("?status__exact=pending") == {corrected.pk}
    assert listed("?status__exact=no_photo") == {confirmed.pk}
    assert listed("?verdict=correct") == {confirmed.pk}
    assert listed("?verdict=corrected") == {corrected.pk}
    assert listed("?verdict=not_a_cat") == set()
    assert listed("?identification__model_version=2.0.0") == {confirmed.pk}
    assert listed(f"?species__id__exact={corrected.species_id}") == {corrected.pk}

    change = staff_client.get(reverse("admin:feedback_feedback_change", args=[corrected.pk]))
    assert photo_url(corrected) in change.content.decode()


def test_bulk_accept_and_reject_then_the_counts(staff_client, staff_user, feedbacks):
    corrected, confirmed = feedbacks
    response = staff_client.post(reverse(CHANGELIST), {
        "action": "accept", "_selected_action": [corrected.pk, confirmed.pk]}, follow=True)
    html = response.content.decode()
    assert "1 feedback marked accepted." in html
    assert "1 without a photo left as they are: there is nothing to review." in html
    corrected.refresh_from_db()
    assert corrected.status == "accepted" and corrected.reviewed_by == staff_user
    confirmed.refresh_from_db()
    assert confirmed.status == "no_photo" and confirmed.reviewed_by is None
    counts = staff_client.get(reverse(CHANGELIST)).context["accepted_counts"]
    assert counts == [("lynx-test", 1)]  # the confirmation shared no photo

    staff_client.post(reverse(CHANGELIST), {"action": "reject",
                                            "_selected_action": [corrected.pk]})
    assert Feedback.objects.get(pk=corrected.pk).status == "rejected"
    assert staff_client.get(reverse(CHANGELIST)).context["accepted_counts"] == []


def test_deleting_in_admin_deletes_the_photo(staff_client, feedbacks,
                                              django_capture_on_commit_callbacks):
    corrected = feedbacks[0]
    assert photos.storage().exists(corrected.photo)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:feedback_feedback_delete", args=[corrected.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not photos.storage().exists(corrected.photo)


def change_page(client, feedback) -> str:
    response = client.get(reverse("admin:feedback_feedback_change", args=[feedback.pk]))
    assert response.status_code == 200
    return response.content.decode()


def said(html: str) -> str:
    """The read-only row that says what the visitor said: its icon and its words."""
    row = html.split('field-visitor_said')[1].split("</div>\n")[0]
    return " ".join(row.split())


def test_the_change_page_says_the_verdict_in_words_that_match_the_icon(
        staff_client, feedbacks, make_species):
    corrected, confirmed = feedbacks
    wrong = said(change_page(staff_client, corrected))
    assert "icon-no.svg" in wrong and "icon-yes" not in wrong
    assert "The answer was wrong: it is a Lynx test." in wrong
    right = said(change_page(staff_client, confirmed))
    assert "icon-yes.svg" in right and "The answer was right." in right
    # The old sentence beside an icon of the opposite meaning is gone.
    assert "The visitor says the answer was right" not in change_page(staff_client, corrected)

    tabby = make_species(common_name="Ocelot test", slug="ocelot-test")
    not_a_cat = services.feedback_create(
        identification_id=identify(PHOTO, tabby).id, correct=False, not_a_cat=True)
    assert "The answer was wrong: it is not a cat." in said(change_page(staff_client, not_a_cat))


def test_without_a_photo_the_status_is_not_up_for_review(staff_client, feedbacks):
    corrected, confirmed = feedbacks
    assert confirmed.status == Feedback.Status.NO_PHOTO
    html = change_page(staff_client, confirmed)
    assert 'name="status"' not in html  # shown, not editable
    assert "No photo: nothing to review" in html
    # With a photo, an editor chooses among the review states only.
    form = staff_client.get(reverse("admin:feedback_feedback_change", args=[corrected.pk])
                            ).context["adminform"].form
    assert [value for value, _ in form.fields["status"].choices] == [
        "pending", "accepted", "rejected"]


def test_the_services_keep_no_photo_out_of_review(feedbacks, staff_user):
    corrected, confirmed = feedbacks
    with pytest.raises(ValueError, match="not a review status"):
        services.review_values(Feedback.Status.NO_PHOTO)
    assert services.feedback_review(Feedback.objects.all(), "rejected", staff_user) == 1
    assert Feedback.objects.get(pk=confirmed.pk).status == "no_photo"


def test_the_database_refuses_a_status_that_contradicts_the_photo(feedbacks):
    from django.db import IntegrityError, transaction

    corrected, confirmed = feedbacks
    for feedback, status in ((confirmed, "pending"), (corrected, "no_photo")):
        with pytest.raises(IntegrityError), transaction.atomic():
            Feedback.objects.filter(pk=feedback.pk).update(status=status)
