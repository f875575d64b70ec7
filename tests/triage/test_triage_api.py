"""The triage API: bearer token per client, "postcode + house number → verdict" (seed 004, 7.2)."""

import datetime
import json
import re
import time

import pytest
import time_machine
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hap_contracting.audit.models import AccessLogEntry
from hap_contracting.core.tokens import token_hash
from hap_contracting.core.validators import normalise_postcode
from hap_contracting.triage import selectors
from hap_contracting.triage.api import check_triage_parameters, openapi_document
from hap_contracting.triage.constants import TriageFilterReason, TriageVerdict
from hap_contracting.triage.models import TriageApiClient, TriageFilterEntry
from hap_contracting.triage.services import (
    triage_filter_delist_contracted,
    triage_filter_list,
    triage_verdicts_refresh,
)
from tests.contracts.factories import ContractFactory
from tests.organisations.factories import CareLocationFactory

TOKEN = "test-token-of-tpm"
URL = "/api/v1/triage/verdict"


@pytest.fixture
def api_client(db):
    return TriageApiClient.objects.create(name="TPM", token_hash=token_hash(TOKEN))


@pytest.fixture
def ask(client, api_client):
    def get(token=TOKEN, **params):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.get(URL, params, headers=headers)

    return get


def on_the_list(location, reason=TriageFilterReason.BILLED_WITHOUT_CONTRACT):
    triage_filter_list({location.pk: timezone.localdate()}, reason=reason)
    return TriageFilterEntry.objects.get(location=location, delisted_on__isnull=True)


def contract_on(location, *others, **kwargs):
    """A contract as a factory makes it, and the verdicts as its service would leave them."""
    contract = ContractFactory(location=location, **kwargs)
    contract.other_locations.add(*others)
    triage_verdicts_refresh(location_ids=[location.pk, *(other.pk for other in others)])
    return contract


def label(verdict) -> str:
    with translation.override("nl"):
        return str(TriageVerdict(verdict).label)


# --- Authentication --------------------------------------------------------------------------


def test_url_is_the_documented_one():
    assert reverse("triage:api_verdict") == URL


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic dGVzdDp0ZXN0", "Bearer wrong-token", f"Token {TOKEN}"],
)
def test_missing_or_wrong_token_is_refused(client, api_client, location, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get(URL, {"postcode": "8011 AB", "house_number": "1"}, headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "verdict" not in response.json()


def test_deactivated_client_is_refused(ask, api_client, location):
    api_client.is_active = False
    api_client.save()
    response = ask(postcode=location.postcode, house_number=location.house_number)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_client_deactivated_elsewhere_is_refused_once_this_process_forgets_it(
    ask, api_client, location, settings, monkeypatch
):
    """Each process keeps the clients it found for TRIAGE_API_CLIENT_CACHE_SECONDS; the process
    that deactivates one forgets at once (test_created_client_token_works_until_deactivated)."""
    params = {"postcode": location.postcode, "house_number": location.house_number}
    assert ask(**params).status_code == 200
    TriageApiClient.objects.filter(pk=api_client.pk).update(is_active=False)  # another process

    kept = ask(**params)
    later = time.monotonic() + settings.TRIAGE_API_CLIENT_CACHE_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)
    forgotten = ask(**params)

    assert kept.status_code == 200
    assert forgotten.status_code == 401


def test_a_wrong_token_is_not_kept(ask, api_client, location):
    """Only clients are kept: guessing tokens fills no memory, and each guess is looked up."""
    ask(token="guess", postcode=location.postcode, house_number=location.house_number)

    assert token_hash("guess") not in selectors._clients_found


def test_api_needs_no_session_nor_second_factor(ask, settings, location):
    """Regression: the two-factor middleware must not redirect a token request to the login."""
    settings.OTP_REQUIRED = True
    response = ask(postcode=location.postcode, house_number=location.house_number)
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies


def test_only_get_is_answered(client, api_client):
    response = client.post(URL, {}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405


def test_last_used_is_written_at_most_once_a_minute(ask, api_client, location):
    ask(postcode=location.postcode, house_number=location.house_number)
    api_client.refresh_from_db()
    first = api_client.last_used_at
    assert first is not None
    ask(postcode=location.postcode, house_number=location.house_number)
    api_client.refresh_from_db()
    assert api_client.last_used_at == first
    with time_machine.travel(first + datetime.timedelta(minutes=2)):
        ask(postcode=location.postcode, house_number=location.house_number)
    api_client.refresh_from_db()
    assert api_client.last_used_at >= first + datetime.timedelta(minutes=2)


# --- Validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "postcode", ["", "801 AB", "0123 AB", "8011 SS", "8011 sd", "8011-AB", " 8011AB", "8011AB\n"]
)
def test_bad_postcode_is_named(ask, postcode):
    response = ask(postcode=postcode, house_number="12")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"postcode"}


@pytest.mark.parametrize("number", ["", "0", "-3", "12a", "123456", "١٢", "012", " 12"])
def test_bad_house_number_is_named(ask, number):
    response = ask(postcode="8011 AB", house_number=number)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"house_number"}


def test_every_bad_field_is_named(ask):
    response = ask(postcode="x", house_number="y", addition="much too long")
    assert set(response.json()["errors"]) == {"postcode", "house_number", "addition"}


# --- Verdicts -------------------------------------------------------------------------------


def test_contracted_location(ask, location):
    contract_on(location)
    response = ask(postcode="8011ab", house_number=str(location.house_number))
    assert response.status_code == 200
    assert response.json() == {
        "verdict": "contracted",
        "label": label(TriageVerdict.CONTRACTED),
        "postcode": "8011 AB",
        "house_number": location.house_number,
        "addition": "",
    }
    assert response.json()["label"] == "Gecontracteerd"
    # Never kept by a cache: a contract may end at midnight.
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    assert "GMT" in response["Expires"]


def test_location_covered_as_other_location_is_contracted(ask, location, zwolle):
    main = CareLocationFactory(hap_post=zwolle.posts.get(), organisation=location.organisation)
    on_the_list(location)
    contract_on(main, location)
    response = ask(postcode=location.postcode, house_number=location.house_number)
    assert response.json()["verdict"] == TriageVerdict.CONTRACTED


def test_listed_location_with_treatment_without_contract_gets_no_care(ask, location):
    assert location.wlz_treatment_admission
    on_the_list(location)
    response = ask(postcode=location.postcode, house_number=location.house_number)
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == "no_anw_care_without_agreement"
    assert body["label"] == label(TriageVerdict.NO_CARE_WITHOUT_AGREEMENT)


def test_listed_location_whose_contract_ended_gets_no_care(ask, location):
    today = timezone.localdate()
    contract_on(
        location,
        start_date=today - datetime.timedelta(days=400),
        end_date=today - datetime.timedelta(days=1),
    )
    on_the_list(location)
    response = ask(postcode=location.postcode, house_number=location.house_number)
    assert response.json()["verdict"] == TriageVerdict.NO_CARE_WITHOUT_AGREEMENT


def test_location_without_treatment_on_the_list_is_never_refused(ask, zwolle):
    """Seed 004, section 7: registered (ION) patients of a location without treatment admission
    may not be refused, even when its grace period ended without a contract."""
    location = CareLocationFactory(
        hap_post=zwolle.posts.get(), wlz_treatment_admission=False, treatment_delivered=False
    )
    on_the_list(location, reason=TriageFilterReason.GRACE_PERIOD_ENDED)
    response = ask(postcode=location.postcode, house_number=location.house_number)
    assert response.status_code == 200
    assert response.json()["verdict"] in (TriageVerdict.UNKNOWN, TriageVerdict.CONTRACTED)


def test_delisted_location_is_not_refused(ask, location):
    """Taken off once a contract covered it: after that contract, no longer refused."""
    today = timezone.localdate()
    on_the_list(location)
    contract_on(
        location,
        start_date=today - datetime.timedelta(days=30),
        end_date=today - datetime.timedelta(days=1),
    )
    triage_filter_delist_contracted(today - datetime.timedelta(days=2))

    response = ask(postcode=location.postcode, house_number=location.house_number)

    assert response.json()["verdict"] == TriageVerdict.UNKNOWN


def test_unknown_address(ask, location):
    response = ask(postcode="8011 AB", house_number=location.house_number + 1000)
    assert response.status_code == 200
    assert response.json()["verdict"] == TriageVerdict.UNKNOWN
    assert response.json()["label"] == label(TriageVerdict.UNKNOWN)


def test_addition_matches_whatever_its_case(ask, zwolle):
    location = CareLocationFactory(hap_post=zwolle.posts.get(), house_number_addition="b")
    on_the_list(location)
    response = ask(postcode=location.postcode, house_number=location.house_number, addition="B")
    assert response.json()["verdict"] == TriageVerdict.NO_CARE_WITHOUT_AGREEMENT
    assert response.json()["addition"] == "B"
    without = ask(postcode=location.postcode, house_number=location.house_number)
    assert without.json()["verdict"] == TriageVerdict.UNKNOWN


def test_a_lookup_is_one_query_and_its_access_log_entry(ask, location, django_assert_num_queries):
    """The client is known to the process after its first lookup (and last_used_at written):
    then a lookup is the verdict's indexed query and the access log's insert."""
    on_the_list(location)
    ask(postcode=location.postcode, house_number=location.house_number)
    with django_assert_num_queries(2) as captured:
        response = ask(postcode=location.postcode, house_number=location.house_number)
    assert response.json()["verdict"] == TriageVerdict.NO_CARE_WITHOUT_AGREEMENT
    verdict_query, log_insert = (query["sql"] for query in captured.captured_queries)
    assert verdict_query.startswith("SELECT verdict FROM triage_triageaddressverdict")
    assert log_insert.startswith("INSERT INTO audit_accesslogentry ")


def test_each_lookup_is_in_the_access_log_under_its_client(ask, location, zwolle):
    contract_on(location)
    unknown = CareLocationFactory(hap_post=zwolle.posts.get(), house_number_addition="C")

    ask(postcode="8011ab", house_number=str(location.house_number))
    ask(postcode=unknown.postcode, house_number=unknown.house_number, addition="c")
    ask(postcode="8011 AB", house_number="x")  # refused: nothing read, nothing logged
    ask(token="wrong", postcode="8011 AB", house_number="1")

    entries = list(AccessLogEntry.objects.order_by("pk").values_list("api_client", "user", "what"))
    assert [(client, user) for client, user, _what in entries] == [("TPM", None), ("TPM", None)]
    # The address as the verdict compares it, and the answer given.
    assert entries[0][2].endswith(f" 8011 AB {location.house_number}: contracted")
    assert entries[1][2].endswith(f" 8011 AB {unknown.house_number}-C: unknown")


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_document_describes_the_endpoint(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.1")
    operation = document["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"postcode", "house_number", "addition"}
    assert set(operation["responses"]) == {"200", "400", "401", "429"}
    # Generated by django-ninja: the scheme is named after the auth class, and each operation
    # names it as well as the document.
    assert document["components"]["securitySchemes"]["BearerAuth"] == {
        **document["components"]["securitySchemes"]["BearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    assert document["security"] == [{"BearerAuth": []}]
    assert operation["security"] == [{"BearerAuth": []}]
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    reference = document["components"]["schemas"]["Verdict"]["properties"]["verdict"]["$ref"]
    verdicts = document["components"]["schemas"][reference.rsplit("/", 1)[1]]["enum"]
    assert set(verdicts) == set(TriageVerdict.values)


# --- Management command ---------------------------------------------------------------------


def test_created_client_token_works_until_deactivated(client, location, capsys):
    call_command("create_triage_client", "TPM Zwolle")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    stored = TriageApiClient.objects.get(name="TPM Zwolle")
    assert stored.token_hash == token_hash(token) != token
    params = {"postcode": location.postcode, "house_number": location.house_number}
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(URL, params, headers=headers).status_code == 200

    call_command("create_triage_client", deactivate="TPM Zwolle")
    assert client.get(URL, params, headers=headers).status_code == 401


def test_client_name_is_unique_and_deactivate_needs_a_known_name(db):
    call_command("create_triage_client", "TPM")
    with pytest.raises(CommandError):
        call_command("create_triage_client", "TPM")
    with pytest.raises(CommandError):
        call_command("create_triage_client", deactivate="nobody")


# --- What the description publishes is what the API checks ---------------------------------


def published_parameter(name: str) -> dict:
    document = openapi_document()
    operation = document["paths"][URL]["get"]
    return next(p for p in operation["parameters"] if p["name"] == name)["schema"]


@pytest.mark.parametrize(
    ("postcode", "accepted"),
    [("8011 AB", True), ("8011ab", True), ("8011 sa", False), ("8011  AB", False)],
)
def test_the_published_postcode_pattern_is_the_one_checked(ask, postcode, accepted):
    pattern = published_parameter("postcode")["pattern"]

    response = ask(postcode=postcode, house_number="1")

    assert (re.fullmatch(pattern, postcode) is not None) is accepted
    assert (response.status_code == 200) is accepted


@given(text=st.text(alphabet="0123456789 ABDSZabdsz-\n", max_size=9))
@hypothesis_settings(max_examples=300, deadline=None)
def test_a_postcode_is_accepted_exactly_when_it_matches_the_published_pattern(text):
    pattern = published_parameter("postcode")["pattern"]
    published = re.fullmatch(pattern, text) is not None

    try:
        normalise_postcode(text)
        checked = text == text.strip()
    except ValidationError:
        checked = False

    assert checked is published


@given(text=st.text(alphabet="AZaz09-/ .", max_size=8))
@hypothesis_settings(max_examples=200, deadline=None)
def test_an_addition_is_accepted_exactly_when_it_matches_the_published_pattern(text):
    schema = published_parameter("addition")
    published = re.fullmatch(schema["pattern"], text) is not None and len(text) <= 6
    _values, errors = check_triage_parameters(
        {"postcode": "8011 AB", "house_number": "1", "addition": text}
    )

    assert ("addition" not in errors) is published


# --- Rate limits ---------------------------------------------------------------------------


def test_a_client_over_its_rate_gets_429_with_retry_after_and_others_go_on(
    ask, client, settings, location
):
    settings.TRIAGE_API_RATE = "3/m"
    other_token = "token-of-another-post"
    TriageApiClient.objects.create(name="TPM Lelystad", token_hash=token_hash(other_token))
    params = {"postcode": location.postcode, "house_number": location.house_number}

    answers = [ask(**params).status_code for _ in range(4)]
    refused = ask(**params)
    other = ask(token=other_token, **params)

    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"] == "rate_limited"
    assert other.status_code == 200


def test_wrong_tokens_from_one_address_are_slowed_but_a_valid_token_still_answers(
    client, api_client, settings, location
):
    settings.TRIAGE_API_BAD_TOKEN_RATE = "2/m"
    params = {"postcode": location.postcode, "house_number": location.house_number}

    guesses = [
        client.get(URL, params, headers={"Authorization": f"Bearer guess-{n}"}).status_code
        for n in range(3)
    ]
    valid = client.get(URL, params, headers={"Authorization": f"Bearer {TOKEN}"})

    assert guesses == [401, 401, 429]
    assert valid.status_code == 200


class CacheServerAway(LocMemCache):
    def add(self, *args, **kwargs):
        raise ConnectionError("the cache server went away")

    get = incr = add


def test_when_the_cache_is_down_the_api_still_answers_and_says_so(ask, settings, location, caplog):
    settings.CACHES = {"default": {"BACKEND": f"{__name__}.CacheServerAway"}}

    response = ask(postcode=location.postcode, house_number=location.house_number)

    assert response.status_code == 200
    assert "rate limit not counted" in caplog.text
