"""The triage feed: the whole filter list with its version, the changes since a version, 304
while nothing changed, the list as it was on a day; each read in the access log, the last sync
per client in the admin, the last change in the health check."""

import datetime

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hap_contracting.audit.models import AccessLogEntry
from hap_contracting.core.roles import Role
from hap_contracting.core.tokens import token_hash
from hap_contracting.triage import api
from hap_contracting.triage.constants import TriageFilterReason, TriageListChangeKind
from hap_contracting.triage.models import TriageApiClient, TriageFilterEntry, TriageListChange
from hap_contracting.triage.services import (
    triage_filter_delist_contracted,
    triage_filter_list,
)
from tests.contracts.factories import ContractFactory
from tests.organisations.factories import CareLocationFactory

TOKEN = "token-of-the-tpm-sync"
URL = "/api/v1/triage/addresses"
BILLED = TriageFilterReason.BILLED_WITHOUT_CONTRACT
GRACE = TriageFilterReason.GRACE_PERIOD_ENDED


@pytest.fixture
def api_client(db):
    return TriageApiClient.objects.create(name="TPM", token_hash=token_hash(TOKEN))


@pytest.fixture
def feed(client, api_client):
    def get(token=TOKEN, headers=None, **params):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return client.get(URL, params, headers=headers)

    return get


@pytest.fixture
def new_location(zwolle):
    def make(**kwargs):
        return CareLocationFactory(hap_post=zwolle.posts.get(), **kwargs)

    return make


def listed(location, reason=BILLED, on=None):
    triage_filter_list({location.pk: on or timezone.localdate()}, reason=reason)
    return TriageFilterEntry.objects.get(location=location, delisted_on__isnull=True)


def current_version() -> int:
    return TriageListChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_url_is_the_documented_one():
    assert reverse("triage:api_addresses") == URL


# --- The whole list --------------------------------------------------------------------------


def test_the_whole_list_with_its_version(feed, new_location):
    first = listed(new_location(postcode="8011ab", house_number=3, house_number_addition="b"))
    second = listed(new_location(postcode="8012 CD", house_number=7), reason=GRACE)

    response = feed()

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == current_version() > 0
    assert body["on"] is None
    today = timezone.localdate().isoformat()
    assert body["entries"] == [
        {
            "entry": first.pk,
            "postcode": "8011 AB",
            "house_number": 3,
            "addition": "B",
            "reason": BILLED,
            "listed_on": today,
        },
        {
            "entry": second.pk,
            "postcode": "8012 CD",
            "house_number": 7,
            "addition": "",
            "reason": GRACE,
            "listed_on": today,
        },
    ]
    assert response["ETag"] == f'"{body["version"]}"'


def test_an_entry_taken_off_is_not_in_the_list(feed, location, new_location):
    listed(location)
    other = listed(new_location())
    ContractFactory(location=location)
    triage_filter_delist_contracted(timezone.localdate())

    entries = feed().json()["entries"]

    assert [entry["entry"] for entry in entries] == [other.pk]


def test_the_feed_names_no_patient_nor_location_name(feed, location):
    listed(location)

    entry = feed().json()["entries"][0]

    assert set(entry) == {"entry", "postcode", "house_number", "addition", "reason", "listed_on"}
    assert location.name not in feed().content.decode()


# --- Changes since a version -----------------------------------------------------------------


def test_changed_since_gives_exactly_the_changes_after_that_version(feed, location, new_location):
    first = listed(location)
    version = feed().json()["version"]
    later = listed(new_location(postcode="8012 CD", house_number=9), reason=GRACE)
    ContractFactory(location=location)
    today = timezone.localdate()
    triage_filter_delist_contracted(today)

    body = feed(changed_since=version).json()

    assert body["changed_since"] == version
    assert body["version"] == current_version() == version + 2
    changes = [
        {key: change[key] for key in ("version", "change", "entry", "reason", "date", "postcode")}
        for change in body["changes"]
    ]
    assert changes == [
        {
            "version": version + 1,
            "change": TriageListChangeKind.ADDED,
            "entry": later.pk,
            "reason": GRACE,
            "date": today.isoformat(),
            "postcode": "8012 CD",
        },
        {
            "version": version + 2,
            "change": TriageListChangeKind.REMOVED,
            "entry": first.pk,
            "reason": BILLED,
            "date": today.isoformat(),
            "postcode": location.postcode,
        },
    ]
    assert body["changes"][1]["removed_because"]
    assert body["changes"][0]["removed_because"] == ""


def test_changed_since_the_current_version_is_empty(feed, location):
    listed(location)
    version = feed().json()["version"]

    body = feed(changed_since=version).json()

    assert body == {"version": version, "changed_since": version, "changes": []}


def test_listing_twice_records_one_change(location):
    listed(location)
    listed(location)

    assert TriageListChange.objects.filter(entry__location=location).count() == 1


def test_an_entry_and_its_change_are_written_together_or_not_at_all(location, monkeypatch):
    """Regression guard: a listing whose change could not be written would be missing from
    every client's copy for good, since no later version would carry it."""

    def refuse(*args, **kwargs):
        raise RuntimeError("the change table refused the insert")

    monkeypatch.setattr(TriageListChange.objects, "bulk_create", refuse)

    with pytest.raises(RuntimeError):
        triage_filter_list({location.pk: timezone.localdate()}, reason=BILLED)

    assert not TriageFilterEntry.objects.exists()


def test_a_delisting_and_its_change_are_written_together(location, monkeypatch):
    entry = listed(location)
    ContractFactory(location=location)

    def refuse(*args, **kwargs):
        raise RuntimeError("the change table refused the insert")

    monkeypatch.setattr(TriageListChange.objects, "bulk_create", refuse)
    with pytest.raises(RuntimeError):
        triage_filter_delist_contracted(timezone.localdate())

    entry.refresh_from_db()
    assert entry.delisted_on is None


# --- ETag and If-None-Match ------------------------------------------------------------------


def test_304_while_nothing_changed_and_200_after_a_change(feed, location, new_location):
    listed(location)
    first = feed()
    etag = first["ETag"]

    unchanged = feed(headers={"If-None-Match": etag})
    weak = feed(headers={"If-None-Match": f"W/{etag}"})
    listed(new_location())
    changed = feed(headers={"If-None-Match": etag})

    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged["ETag"] == etag
    assert weak.status_code == 304
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert len(changed.json()["entries"]) == 2


def test_changes_since_answer_304_with_the_current_etag(feed, location):
    listed(location)
    version = feed().json()["version"]
    etag = feed(changed_since=version)["ETag"]

    assert feed(changed_since=version, headers={"If-None-Match": etag}).status_code == 304


# --- The list on a day -----------------------------------------------------------------------


def test_on_a_past_day_gives_the_list_as_it_was(feed, location, new_location):
    today = timezone.localdate()
    old = listed(location, on=today - datetime.timedelta(days=10))
    ContractFactory(location=location, start_date=today - datetime.timedelta(days=3))
    triage_filter_delist_contracted(today - datetime.timedelta(days=3))
    recent = listed(new_location(), on=today - datetime.timedelta(days=1))

    then = feed(on=(today - datetime.timedelta(days=5)).isoformat()).json()
    before_any = feed(on=(today - datetime.timedelta(days=11)).isoformat()).json()
    now = feed(on=today.isoformat()).json()

    assert [entry["entry"] for entry in then["entries"]] == [old.pk]
    assert then["on"] == (today - datetime.timedelta(days=5)).isoformat()
    assert before_any["entries"] == []
    assert [entry["entry"] for entry in now["entries"]] == [recent.pk]


def test_a_look_at_a_past_day_is_not_a_sync(feed, api_client, location):
    listed(location)

    feed(on="2026-01-01")

    api_client.refresh_from_db()
    assert api_client.last_synced_at is None


# --- Refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"changed_since": "abc"}, {"changed_since"}),
        ({"changed_since": "-1"}, {"changed_since"}),
        ({"changed_since": "01"}, {"changed_since"}),
        ({"changed_since": "99999999999999999999"}, {"changed_since"}),
        ({"on": "2026-13-01"}, {"on"}),
        ({"on": "1-3-2026"}, {"on"}),
        ({"on": "2026-02-30"}, {"on"}),
        ({"changed_since": "0", "on": "2026-03-01"}, {"changed_since", "on"}),
        ({"changed_since": "x", "on": "y"}, {"changed_since", "on"}),
    ],
)
def test_bad_parameters_are_named(feed, api_client, params, fields):
    response = feed(**params)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == fields
    assert not AccessLogEntry.objects.exists()
    api_client.refresh_from_db()
    assert api_client.last_synced_at is None


def test_a_version_not_reached_yet_is_refused_naming_the_field(feed, location):
    listed(location)

    response = feed(changed_since=current_version() + 1)

    assert response.status_code == 400
    assert "Haal de hele lijst opnieuw op" in response.json()["errors"]["changed_since"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Token {TOKEN}"])
def test_no_or_a_wrong_token_is_refused(client, api_client, location, authorization):
    listed(location)
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.get(URL, headers=headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "entries" not in response.json()
    assert not AccessLogEntry.objects.exists()


def test_a_deactivated_client_is_refused(feed, api_client):
    api_client.is_active = False
    api_client.save()

    assert feed().status_code == 401


# --- Access log, last sync, health ------------------------------------------------------------


def test_each_read_is_in_the_access_log_under_its_client(feed, client, location):
    other_token = "token-of-another-system"
    TriageApiClient.objects.create(name="TPM Lelystad", token_hash=token_hash(other_token))
    listed(location)
    version = current_version()

    feed()
    feed(headers={"If-None-Match": f'"{version}"'})
    feed(token=other_token, changed_since=0)
    feed(on="2026-01-01")

    entries = list(AccessLogEntry.objects.order_by("pk").values("api_client", "user", "what"))
    assert [entry["api_client"] for entry in entries] == ["TPM", "TPM", "TPM Lelystad", "TPM"]
    assert all(entry["user"] is None for entry in entries)
    assert f"versie {version}" in entries[0]["what"]
    assert "niet veranderd" in entries[1]["what"]
    assert "na versie 0" in entries[2]["what"]
    assert "2026-01-01" in entries[3]["what"]


def test_a_sync_is_noted_on_the_client(feed, api_client, location):
    listed(location)

    feed()

    api_client.refresh_from_db()
    assert api_client.last_synced_version == current_version()
    assert api_client.last_synced_at is not None


def test_the_admin_shows_each_clients_last_sync(feed, client, api_client, location, make_user):
    listed(location)
    feed()
    version = current_version()
    client.logout()
    client.force_login(make_user(Role.ADMINISTRATOR, is_staff=True))

    page = client.get(reverse("admin:triage_triageapiclient_changelist"))

    assert page.status_code == 200
    content = page.content.decode()
    assert "TPM" in content
    assert "column-last_synced_version" in content
    assert f'<td class="field-last_synced_version">{version}</td>' in content
    assert api_client.token_hash not in content


def test_the_health_check_says_when_the_list_last_changed(client, location, monkeypatch):
    import config.healthz

    monkeypatch.setattr(config.healthz, "broker_reachable", lambda: True)
    assert client.get("/healthz").json()["triage_list_changed_at"] is None
    listed(location)
    changed_at = TriageListChange.objects.get().recorded_at

    body = client.get("/healthz").json()

    assert datetime.datetime.fromisoformat(body["triage_list_changed_at"]) == changed_at


# --- Queries ---------------------------------------------------------------------------------


def _queries_of(request) -> int:
    """The queries of a read whose answer this process has not written yet."""
    api.forget_feed_answers()
    with CaptureQueriesContext(connection) as queries:
        response = request()
    assert response.status_code in (200, 304)
    return len(queries)


@pytest.mark.parametrize(
    "params",
    [{}, {"changed_since": "0"}, {"on": "2030-01-01"}],
    ids=["list", "changes", "on-a-day"],
)
def test_the_feed_runs_a_constant_number_of_queries(feed, new_location, params):
    listed(new_location())
    feed()  # last_used_at written
    listed(new_location())  # a new version: each read below is a sync to note
    few = _queries_of(lambda: feed(**params))
    locations = [new_location() for _ in range(25)]
    triage_filter_list(
        dict.fromkeys([place.pk for place in locations], timezone.localdate()), reason=GRACE
    )

    many = _queries_of(lambda: feed(**params))

    assert len(feed(**params).json().get("entries", feed(**params).json().get("changes"))) == 27
    assert many == few <= 6


@pytest.mark.parametrize(
    "params",
    [{}, {"changed_since": "0"}, {"on": "2030-01-01"}],
    ids=["list", "changes", "on-a-day"],
)
def test_a_version_read_again_is_answered_as_written_without_reading_the_list(
    feed, new_location, params
):
    listed(new_location())
    first = feed(**params)
    with CaptureQueriesContext(connection) as again:
        second = feed(**params)
    listed(new_location())
    after_a_change = feed(**params)

    assert second.content == first.content
    # The version, the access log entry; no read of the list or its changes.
    assert not any("triage_triagelistchange" in query["sql"] for query in again[1:])
    assert AccessLogEntry.objects.filter(api_client="TPM").count() == 3
    assert after_a_change.json()["version"] == first.json()["version"] + 1
    assert after_a_change.content != first.content


def test_listing_many_locations_runs_a_constant_number_of_queries(new_location):
    locations = [new_location() for _ in range(30)]
    with CaptureQueriesContext(connection) as one:
        triage_filter_list({locations[0].pk: timezone.localdate()}, reason=BILLED)
    with CaptureQueriesContext(connection) as many:
        triage_filter_list(
            dict.fromkeys([place.pk for place in locations[1:]], timezone.localdate()),
            reason=BILLED,
        )

    assert len(many) == len(one)
    assert TriageListChange.objects.count() == 30


# --- The data migration ----------------------------------------------------------------------


def test_the_migration_builds_the_changes_of_the_entries_already_there(location, new_location):
    """The entries made before the change table existed get their changes, in date order."""
    from importlib import import_module

    migration = import_module("hap_contracting.triage.migrations.0002_list_changes_and_last_sync")
    today = timezone.localdate()
    ended = TriageFilterEntry.objects.create(
        location=location,
        reason=BILLED,
        listed_on=today - datetime.timedelta(days=20),
        delisted_on=today - datetime.timedelta(days=5),
        delisted_because="Een contract ging in.",
    )
    open_entry = TriageFilterEntry.objects.create(
        location=new_location(postcode="8012cd", house_number=4, house_number_addition="a"),
        reason=GRACE,
        listed_on=today - datetime.timedelta(days=10),
    )

    migration.build_changes(django_apps, None)

    changes = list(
        TriageListChange.objects.order_by("pk").values_list(
            "entry_id", "kind", "on", "removed_because", "postcode", "addition"
        )
    )
    assert changes == [
        (ended.pk, "added", ended.listed_on, "", location.postcode, ""),
        (open_entry.pk, "added", open_entry.listed_on, "", "8012 CD", "A"),
        (ended.pk, "removed", ended.delisted_on, "Een contract ging in.", location.postcode, ""),
    ]


# --- The description -------------------------------------------------------------------------


def test_one_generated_description_covers_the_verdict_and_the_feed(client, db):
    document = client.get("/api/v1/openapi.json").json()

    assert set(document["paths"]) == {"/api/v1/triage/verdict", URL}
    operation = document["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "changed_since",
        "on",
        "If-None-Match",
    }
    assert set(operation["responses"]) == {"200", "304", "400", "401", "429"}
    assert "ETag" in operation["responses"]["200"]["headers"]
    assert "ETag" in operation["responses"]["304"]["headers"]
    assert operation["security"] == [{"BearerAuth": []}]
    schemas = document["components"]["schemas"]
    assert set(schemas["FeedEntry"]["properties"]) == {
        "entry",
        "postcode",
        "house_number",
        "addition",
        "reason",
        "listed_on",
    }
