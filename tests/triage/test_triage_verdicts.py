"""The verdict per address, kept by the services (seed 004, 7.2): it follows every write that
changes it (a contract made, ending or terminated, a location listed or delisted, a location's
address or treatment admission changed), it changes at midnight when a contract starts or ends
without a job running, and it equals the rule computed directly from contracts, locations and
the list, for a varied data set and on every day that matters."""

import datetime
import random
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hap_contracting.contracts.constants import ContractKind
from hap_contracting.contracts.models import Contract
from hap_contracting.contracts.selectors import contract_covers
from hap_contracting.contracts.services.contracts import (
    ContractTerms,
    contract_create_for_request,
    contract_terminate,
)
from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from hap_contracting.core.tokens import token_hash
from hap_contracting.organisations.models import CareLocation
from hap_contracting.organisations.selectors import locations_at_address
from hap_contracting.organisations.services import care_location_change
from hap_contracting.triage.constants import TriageFilterReason, TriageVerdict
from hap_contracting.triage.models import TriageAddressVerdict, TriageApiClient, TriageFilterEntry
from hap_contracting.triage.selectors import triage_refused_entries, triage_verdict
from hap_contracting.triage.services import (
    triage_filter_delist_contracted,
    triage_filter_list,
    triage_verdicts_rebuild,
    triage_verdicts_refresh,
    verdict_periods,
)
from tests.contracts.factories import ContractFactory
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory
from tests.tariffs.factories import EXAMPLE_TARIFFS, insurer_tariffs

V = TriageVerdict
TODAY = datetime.date(2026, 11, 23)
BILLED = TriageFilterReason.BILLED_WITHOUT_CONTRACT


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)):
        yield TODAY


@pytest.fixture
def new_location(zwolle):
    def make(**kwargs):
        return CareLocationFactory(hap_post=zwolle.posts.get(), **kwargs)

    return make


def verdict_of(location, on=TODAY) -> str:
    return triage_verdict(
        postcode=location.postcode,
        house_number=location.house_number,
        addition=location.house_number_addition,
        on=on,
    )


def listed(location, on=TODAY):
    triage_filter_list({location.pk: on}, reason=BILLED)


@pytest.fixture
def contract_made(staff):
    """A contract through the service that completing the procedure runs; the insurer tariffs
    its rates are checked against."""
    insurer_tariffs(datetime.date(2020, 1, 1))

    def make(location, start, end=None, others=()) -> Contract:
        with_treatment = location.wlz_treatment_admission
        return contract_create_for_request(
            admission_request=AdmissionRequestFactory(in_contracting=True, location=location),
            by=staff[Role.SECRETARIAT],
            terms=ContractTerms(
                kind=ContractKind.WLZ_WITH_TREATMENT
                if with_treatment
                else ContractKind.WLZ_WITHOUT_TREATMENT,
                start_date=start,
                end_date=end,
                rates={code: amount * Decimal("2.5") for code, amount in EXAMPLE_TARIFFS.items()}
                if with_treatment
                else {},
                other_locations=tuple(others),
            ),
        )

    return make


# --- It follows every change -------------------------------------------------------------------


def test_a_listed_location_with_treatment_is_refused_and_one_without_is_not(new_location):
    with_treatment, without = new_location(), new_location(wlz_treatment_admission=False)

    listed(with_treatment)
    listed(without)

    assert verdict_of(with_treatment) == V.NO_CARE_WITHOUT_AGREEMENT
    assert verdict_of(without) == V.UNKNOWN


def test_a_new_contract_makes_the_location_contracted_from_its_first_day(
    new_location, contract_made
):
    location = new_location()
    listed(location)

    contract_made(location, start=TODAY + days(10), end=TODAY + days(100))

    assert verdict_of(location) == V.NO_CARE_WITHOUT_AGREEMENT
    assert verdict_of(location, TODAY + days(9)) == V.NO_CARE_WITHOUT_AGREEMENT
    assert verdict_of(location, TODAY + days(10)) == V.CONTRACTED
    assert verdict_of(location, TODAY + days(100)) == V.CONTRACTED
    assert verdict_of(location, TODAY + days(101)) == V.NO_CARE_WITHOUT_AGREEMENT


def test_a_contract_covers_its_other_locations_too(new_location, contract_made):
    location = new_location()
    other = new_location(organisation=location.organisation)
    listed(other)

    contract_made(location, start=TODAY, others=[other])

    assert verdict_of(other) == V.CONTRACTED


def test_a_contract_ending_changes_the_answer_at_midnight_without_a_job(
    client, new_location, contract_made
):
    """No job runs between the two calls: the stored rows carry the contract's last day."""
    location = new_location()
    listed(location)
    contract_made(location, start=TODAY - days(300), end=TODAY + days(2))
    token = "token-of-the-midnight-test"
    TriageApiClient.objects.create(name="TPM", token_hash=token_hash(token))

    def asked_at(moment):
        with time_machine.travel(moment):
            return client.get(
                "/api/v1/triage/verdict",
                {"postcode": location.postcode, "house_number": location.house_number},
                headers={"Authorization": f"Bearer {token}"},
            ).json()["verdict"]

    amsterdam = timezone.get_default_timezone()
    last_evening = datetime.datetime(2026, 11, 25, 23, 59, tzinfo=amsterdam)
    assert asked_at(last_evening) == V.CONTRACTED
    assert asked_at(last_evening + datetime.timedelta(minutes=2)) == V.NO_CARE_WITHOUT_AGREEMENT


def test_a_termination_ends_the_contracted_days_the_day_before(new_location, staff, contract_made):
    location = new_location()
    listed(location)
    contract = contract_made(location, start=TODAY - days(30))

    contract_terminate(
        contract=contract, by=staff[Role.SECRETARIAT], terminated_on=TODAY + days(5), reason="Op."
    )

    assert verdict_of(location, TODAY + days(4)) == V.CONTRACTED
    assert verdict_of(location, TODAY + days(5)) == V.NO_CARE_WITHOUT_AGREEMENT


def test_delisting_keeps_it_contracted_and_unknown_once_the_contract_ends(
    new_location, contract_made
):
    location = new_location()
    listed(location, on=TODAY - days(60))
    contract_made(location, start=TODAY - days(10), end=TODAY + days(20))
    assert verdict_of(location, TODAY + days(21)) == V.NO_CARE_WITHOUT_AGREEMENT

    triage_filter_delist_contracted(TODAY)

    assert verdict_of(location) == V.CONTRACTED
    assert verdict_of(location, TODAY + days(21)) == V.UNKNOWN


def test_a_location_that_moves_takes_its_verdict_to_its_new_address(new_location, staff):
    location = new_location(postcode="8011 AB", house_number=5)
    listed(location)
    old = {"postcode": "8011 AB", "house_number": 5, "on": TODAY}

    care_location_change(
        location=location, by=staff[Role.ADMINISTRATOR], **_fields(location, postcode="8012cd")
    )

    assert triage_verdict(**old) == V.UNKNOWN
    assert triage_verdict(postcode="8012 CD", house_number=5, on=TODAY) == (
        V.NO_CARE_WITHOUT_AGREEMENT
    )


def test_a_location_without_treatment_admission_any_more_is_not_refused(new_location, staff):
    location = new_location()
    listed(location)

    care_location_change(
        location=location,
        by=staff[Role.ADMINISTRATOR],
        **_fields(location, wlz_treatment_admission=False, treatment_delivered=False),
    )

    assert verdict_of(location) == V.UNKNOWN


def test_a_refused_contract_leaves_the_verdicts_as_they_were(new_location, contract_made):
    location = new_location()
    listed(location)
    before = list(TriageAddressVerdict.objects.values())

    with pytest.raises(DomainError):
        contract_made(location, start=TODAY, end=TODAY)  # ends before it starts

    assert list(TriageAddressVerdict.objects.values()) == before
    assert verdict_of(location) == V.NO_CARE_WITHOUT_AGREEMENT


def test_the_triage_list_download_holds_the_addresses_the_api_refuses(
    new_location, contract_made, make_user
):
    refused, contracted, without = (
        new_location(),
        new_location(),
        new_location(wlz_treatment_admission=False),
    )
    for place in (refused, contracted, without):
        listed(place)
    contract_made(contracted, start=TODAY)

    shown = [entry.location for entry in triage_refused_entries(make_user(Role.FINANCE))]

    assert shown == [refused]
    assert [verdict_of(place) for place in (refused, contracted, without)] == [
        V.NO_CARE_WITHOUT_AGREEMENT,
        V.CONTRACTED,
        V.UNKNOWN,
    ]


def _fields(location, **overrides) -> dict:
    names = (
        "organisation",
        "name",
        "street",
        "house_number",
        "house_number_addition",
        "postcode",
        "city",
        "wlz_treatment_admission",
        "treatment_delivered",
        "highest_care_profile",
        "number_of_residents",
    )
    return {**{name: getattr(location, name) for name in names}, **overrides}


# --- The feed's history on a day follows the same writes ---------------------------------------


def test_the_feed_on_a_day_shows_the_list_as_the_services_left_it(
    client, new_location, contract_made
):
    location = new_location()
    listed(location, on=TODAY - days(40))
    contract_made(location, start=TODAY - days(5))
    triage_filter_delist_contracted(TODAY - days(3))
    token = "token-of-the-history-test"
    TriageApiClient.objects.create(name="Klachten", token_hash=token_hash(token))

    def listed_on(day):
        response = client.get(
            "/api/v1/triage/addresses",
            {"on": day.isoformat()},
            headers={"Authorization": f"Bearer {token}"},
        )
        return [entry["house_number"] for entry in response.json()["entries"]]

    assert listed_on(TODAY - days(41)) == []
    assert listed_on(TODAY - days(40)) == [location.house_number]
    assert listed_on(TODAY - days(4)) == [location.house_number]
    assert listed_on(TODAY - days(3)) == []


# --- The rule over time ------------------------------------------------------------------------


def test_contract_periods_merge_and_the_days_around_them_are_refused():
    d = datetime.date
    assert verdict_periods(
        [(d(2026, 3, 1), d(2026, 6, 30)), (d(2026, 1, 1), d(2026, 2, 28))], refused_otherwise=True
    ) == [
        (datetime.date.min, d(2025, 12, 31), V.NO_CARE_WITHOUT_AGREEMENT),
        (d(2026, 1, 1), d(2026, 6, 30), V.CONTRACTED),
        (d(2026, 7, 1), datetime.date.max, V.NO_CARE_WITHOUT_AGREEMENT),
    ]
    assert verdict_periods([(d(2026, 1, 1), d(2026, 2, 1))], refused_otherwise=False) == [
        (d(2026, 1, 1), d(2026, 2, 1), V.CONTRACTED)
    ]
    assert verdict_periods([], refused_otherwise=True) == [
        (datetime.date.min, datetime.date.max, V.NO_CARE_WITHOUT_AGREEMENT)
    ]
    assert verdict_periods([], refused_otherwise=False) == []


def verdict_computed_directly(postcode: str, house_number: int, addition: str, day) -> str:
    """The rule as the lookup computed it before the verdicts were kept: the address's
    location (the first by name), whether a contract covers it on ``day``, whether it is Wlz
    with treatment and on the list."""
    location = (
        locations_at_address(postcode=postcode, house_number=house_number, addition=addition)
        .annotate(
            contracted=contract_covers(OuterRef("pk"), day),
            listed=Exists(
                TriageFilterEntry.objects.filter(location=OuterRef("pk"), delisted_on__isnull=True)
            ),
        )
        .order_by("name", "pk")
        .values("wlz_treatment_admission", "contracted", "listed")
        .first()
    )
    if location is None:
        return V.UNKNOWN
    if location["contracted"]:
        return V.CONTRACTED
    if location["wlz_treatment_admission"] and location["listed"]:
        return V.NO_CARE_WITHOUT_AGREEMENT
    return V.UNKNOWN


def varied_data_set(zwolle, rng: random.Random) -> None:
    """Locations with and without treatment, on and off the list, covered by contracts that
    ran, run, will run, were terminated (before, on and after their start) or cover them as
    another location; two locations at one address (additions differing in case); written as
    factories write, without the services."""
    post = zwolle.posts.get()
    locations = []
    for number in range(1, 41):
        locations.append(
            CareLocationFactory(
                hap_post=post,
                postcode=rng.choice(["8011 AB", "8012 CD"]),
                house_number=number,
                house_number_addition=rng.choice(["", "", "a", "B"]),
                wlz_treatment_admission=rng.random() < 0.7,
                name=f"Locatie {rng.randrange(10_000):05d}",
            )
        )
    # The same address as another, the addition in another case.
    for twin_of in [place for place in locations if place.house_number_addition][:4]:
        locations.append(
            CareLocationFactory(
                hap_post=post,
                postcode=twin_of.postcode,
                house_number=twin_of.house_number,
                house_number_addition=twin_of.house_number_addition.swapcase(),
                wlz_treatment_admission=rng.random() < 0.5,
                name=f"Locatie {rng.randrange(10_000):05d}",
            )
        )
    for location in locations:
        if rng.random() < 0.6:
            TriageFilterEntry.objects.create(
                location=location,
                reason=BILLED,
                listed_on=TODAY - days(rng.randint(0, 400)),
                delisted_on=rng.choice([None, None, TODAY - days(rng.randint(0, 30))]),
            )
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            start = TODAY + days(rng.randint(-800, 200))
            contract = ContractFactory(
                location=location,
                start_date=start,
                end_date=start + days(rng.randint(1, 500)),
                terminated_on=rng.choice(
                    [None, None, None, start, start + days(rng.randint(0, 600)), start - days(3)]
                ),
            )
            if rng.random() < 0.2:
                contract.other_locations.add(rng.choice(locations))


def days_worth_asking() -> dict[tuple, set]:
    """Per address (the addition in capitals): today and the days around it, a day long ago
    and one far ahead, and the days around each start, end and termination of a contract that
    covers a location there. Two unknown addresses too."""
    around_today = {TODAY - days(1), TODAY, TODAY + days(1)}
    always = around_today | {datetime.date(2000, 1, 1), datetime.date(2100, 1, 1)}
    asked: dict[tuple, set] = {("8011 AB", 999, ""): always, ("9999 ZZ", 1, ""): always}
    contracts = Contract.objects.values_list(
        "location_id", "other_locations", "start_date", "end_date", "terminated_on"
    )
    boundaries: dict[int, set] = {}
    for own, other, *moments in contracts:
        edges = {moment + days(shift) for moment in moments if moment for shift in (-1, 0, 1)}
        for location_id in (own, other):
            boundaries.setdefault(location_id, set()).update(edges)
    for pk, postcode, number, addition in CareLocation.objects.values_list(
        "pk", "postcode", "house_number", "house_number_addition"
    ):
        key = (postcode, number, addition.upper())
        asked.setdefault(key, set(always)).update(boundaries.get(pk, ()))
    return asked


def test_the_kept_verdict_equals_the_rule_computed_directly(zwolle):
    varied_data_set(zwolle, random.Random(20261123))
    asked = days_worth_asking()

    triage_verdicts_rebuild()

    kept, direct = {}, {}
    for (postcode, number, addition), days_asked in asked.items():
        for day in days_asked:
            key = (postcode, number, addition, day)
            kept[key] = triage_verdict(
                postcode=postcode, house_number=number, addition=addition.lower(), on=day
            )
            direct[key] = verdict_computed_directly(postcode, number, addition, day)
    assert kept == direct
    assert set(kept.values()) == set(V.values)  # the data set holds all three
    assert len(kept) > 500


def test_refreshing_location_by_location_keeps_what_a_rebuild_keeps(zwolle):
    varied_data_set(zwolle, random.Random(7))
    triage_verdicts_rebuild()
    rebuilt = sorted(TriageAddressVerdict.objects.values_list(*ROW))

    for pk in CareLocation.objects.order_by("?").values_list("pk", flat=True):
        triage_verdicts_refresh(location_ids=[pk])

    assert sorted(TriageAddressVerdict.objects.values_list(*ROW)) == rebuilt


ROW = ("postcode", "house_number", "addition", "starts_on", "ends_on", "verdict", "location_id")


def test_the_command_rebuilds_every_verdict(zwolle, capsys):
    varied_data_set(zwolle, random.Random(3))
    call_command("rebuild_triage_verdicts")

    assert f"{TriageAddressVerdict.objects.count()} " in capsys.readouterr().out
    assert TriageAddressVerdict.objects.exists()


def test_the_migration_builds_the_verdicts_of_what_is_there(zwolle):
    from importlib import import_module

    from django.apps import apps

    varied_data_set(zwolle, random.Random(11))
    triage_verdicts_rebuild()
    rebuilt = sorted(TriageAddressVerdict.objects.values_list(*ROW))
    TriageAddressVerdict.objects.all().delete()

    migration = import_module("hap_contracting.triage.migrations.0003_address_verdicts")
    migration.build_verdicts(apps, None)

    assert sorted(TriageAddressVerdict.objects.values_list(*ROW)) == rebuilt


# --- Cost and concurrency ----------------------------------------------------------------------


def test_a_refresh_runs_a_constant_number_of_queries(new_location):
    few, many = [new_location()], [new_location() for _ in range(30)]
    for location in few + many:
        ContractFactory(location=location)
        TriageFilterEntry.objects.create(location=location, reason=BILLED, listed_on=TODAY)

    with CaptureQueriesContext(connection) as one:
        triage_verdicts_refresh(location_ids=[place.pk for place in few])
    with CaptureQueriesContext(connection) as thirty:
        triage_verdicts_refresh(location_ids=[place.pk for place in many])

    assert len(one) == len(thirty) <= 6  # lock, addresses, locations, contracts, delete, insert
    assert TriageAddressVerdict.objects.count() == 31 * 3  # refused, contracted, refused


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_listing_and_a_contract_at_once_both_count(zwolle, contract_made):
    """Each refresh reads what the other committed (one at a time, under the verdicts' lock),
    so neither writes the verdicts from what it read before the other committed."""
    location = CareLocationFactory(hap_post=zwolle.posts.get())
    barrier = threading.Barrier(2)
    errors = []

    def run(step):
        try:
            with transaction.atomic():
                barrier.wait()
                step()
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connection.close()

    steps = [
        lambda: listed(location),
        lambda: contract_made(location, start=TODAY + days(10), end=TODAY + days(20)),
    ]
    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert verdict_of(location) == V.NO_CARE_WITHOUT_AGREEMENT
    assert verdict_of(location, TODAY + days(10)) == V.CONTRACTED
