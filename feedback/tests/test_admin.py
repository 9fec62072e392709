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

    assert listed("?status__exact=pending") == {corrected.pk, confirmed.pk}
    assert listed("?correct__exact=1") == {confirmed.pk}
    assert listed("?identification__model_version=2.0.0") == {confirmed.pk}
    assert listed(f"?species__id__exact={corrected.species_id}") == {corrected.pk}
    assert listed("?photo=yes") == {corrected.pk}

    change = staff_client.get(reverse("admin:feedback_feedback_change", args=[corrected.pk]))
    assert photo_url(corrected) in change.content.decode()


def test_bulk_accept_and_reject_then_the_counts(staff_client, staff_user, feedbacks):
    corrected, confirmed = feedbacks
    response = staff_client.post(reverse(CHANGELIST), {
        "action": "accept", "_selected_action": [corrected.pk, confirmed.pk]}, follow=True)
    assert "2 feedback marked accepted." in response.content.decode()
    corrected.refresh_from_db()
    assert corrected.status == "accepted" and corrected.reviewed_by == staff_user
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
