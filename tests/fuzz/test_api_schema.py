"""Schemathesis against /api/schema/: every operation, generated requests (valid and not), no
server error. In process (WSGI), with the real model, for a fixed budget per operation."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning:PIL")]
EXAMPLES_PER_OPERATION = 60


def operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.django_db
def test_api_never_answers_a_server_error(installed_model, settings_override):
    from django.core.wsgi import get_wsgi_application

    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    tested = []
    for operation in operations(schema):
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                  database=None, suppress_health_check=list(HealthCheck))
        def call(case):
            case.call_and_validate(checks=[schemathesis.checks.not_a_server_error])

        call()
        tested.append(operation.label)
    assert {"GET /api/species/", "GET /api/species/{slug}/", "POST /api/classify/"} <= set(tested)


@pytest.fixture
def settings_override(settings):
    settings.ALLOWED_HOSTS = ["localhost"]  # the Host schemathesis sends
    settings.IDENTIFY_RATE_LIMIT = "off"
