"""Database queries per identification: a fixed few, whatever the model's label count
(bench/run.py showed a query filtering on all 1000 labels costing more than the inference):
the label owners, the candidates when the answer is a group (the tabby photo: the
domestic cat and its look-alike breeds), and one write: the identification's id and
photo hash, for feedback (feedback/)."""
import pytest
from django.urls import reverse

from testsupport.web_fixtures import cat_jpeg, coffee_jpeg, upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("photo", [cat_jpeg, coffee_jpeg])
def test_api_identification_makes_a_fixed_number_of_queries(client, installed_model, photo,
                                            django_assert_num_queries):
    data = photo()
    # owners (+ candidates of the group); the identification's id
    queries_expected = 3 if photo is cat_jpeg else 2
    with django_assert_num_queries(queries_expected) as queries:
        response = client.post(reverse("api:classify"), {"image": upload(data)})
    assert response.status_code == 200
    # The query does not grow with the model: no parameter per model label.
    assert len(queries.captured_queries[0]["sql"]) < 3000
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(writes) == 1 and writes[0].startswith('INSERT INTO "feedback_identification"')


def test_page_identification_makes_a_fixed_number_of_queries(client, installed_model,
                                                             django_assert_num_queries):
    data = cat_jpeg()
    # Owners; candidates; the identification's id; the entries for the feedback form.
    with django_assert_num_queries(4):
        response = client.post(reverse("classifier:identify"), {"image": upload(data)})
    assert "This is a domestic cat" in response.content.decode()


def test_identify_page_itself_makes_no_query(client, installed_model, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get(reverse("classifier:identify")).status_code == 200


def test_rate_limit_counts_in_the_cache_not_the_database(client, installed_model, settings,
                                                        django_assert_num_queries):
    settings.IDENTIFY_RATE_LIMIT = "1000/minute"
    data = cat_jpeg()
    with django_assert_num_queries(3):  # as without a limit: owners, candidates, the id
        assert client.post(reverse("api:classify"), {"image": upload(data)}).status_code == 200
