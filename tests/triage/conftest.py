import pytest

from hap_contracting.triage import api
from hap_contracting.triage.selectors import triage_api_clients_forget


@pytest.fixture(autouse=True)
def nothing_kept_between_tests():
    """A process keeps the clients it found and the feed's answers by version; each test has a
    database of its own, so it starts without them."""
    triage_api_clients_forget()
    api.forget_feed_answers()
    yield
    triage_api_clients_forget()
    api.forget_feed_answers()
