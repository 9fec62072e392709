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


@pytest.fixture
def connections_kept_open():
    """Calling the WSGI app directly fires request_finished, whose close_old_connections would
    close the test's PostgreSQL connection in the middle of its transaction. Django's own test
    client detaches it for the same reason."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_api_never_answers_a_server_error(installed_model, settings_override,
                                          connections_kept_open):
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
    assert {"GET /api/species/", "GET /api/species/{slug}/", "POST /api/classify/",
            "POST /api/identifications/{identification_id}/feedback/"} <= set(tested)


@pytest.fixture
def settings_override(settings):
    settings.ALLOWED_HOSTS = ["localhost"]  # the Host schemathesis sends
    settings.IDENTIFY_RATE_LIMIT = "off"
