"""schemathesis against the triage API's own OpenAPI description, through the WSGI app: for
every request it generates from the description, no server error and no answer (status,
headers, body) that the description does not allow. Bounded: at most 150 examples, each within
a second, so the whole run stays within a few seconds."""

import datetime

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode

from hap_contracting.core.tokens import token_hash
from hap_contracting.triage.models import TriageApiClient

TOKEN = "token-of-the-schemathesis-run"

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
# Query parameters the description does not name are ignored, as HTTP APIs do (OpenAPI cannot
# forbid them); a request is not "schema-violating" for carrying one.
schema.config.generation.update(allow_extra_parameters=False)


@pytest.fixture
def requests_keep_the_test_transaction():
    """The WSGI handler closes "old" connections around each request, and on PostgreSQL that
    ends the test's transaction; Django's own test client switches this off the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def triage_client(db, settings, requests_keep_the_test_transaction):
    # The run asks far more often than a post would; the limit has tests of its own.
    settings.TRIAGE_API_RATE = settings.TRIAGE_API_BAD_TOKEN_RATE = "100000/m"
    return TriageApiClient.objects.create(name="schemathesis", token_hash=token_hash(TOKEN))


@schema.parametrize()
@hypothesis_settings(
    max_examples=150,
    # The same 150 requests on every run: CI fails for a change, not for a draw.
    derandomize=True,
    deadline=datetime.timedelta(seconds=1),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_triage_api_keeps_to_its_description(case, triage_client, location):
    response = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})

    # A request the description allows is answered: the description says all the API checks.
    if case.meta.generation.mode is GenerationMode.POSITIVE:
        assert response.status_code == 200, (case.query, response.text)
