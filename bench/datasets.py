"""The benchmarks' data sets, built with ``bulk_create`` (and ``COPY`` for the million claims and
invoice lines of the export benchmark), each called by ``runner.prepare_database`` inside a
migrated, empty database of its own.

The parts: the production reference data (the ``regions`` fixture: regions, posts, postcode
ranges, target groups), staff per role per region, care organisations, care locations
round-robin over the posts (a postcode in the post's ranges, the house number alone keeping the
address unique), admission requests over the states (only a location's latest request may be
unfinished), contracts, triage filter entries, claims and invoice lines. Then one function per
benchmark puts together what it needs: ``procedure_pages``, ``daily_job``, ``triage``,
``invoice_lines``, ``claims_reference`` (and ``write_claims_file``) and ``load_volume``.

Everything is deterministic: a seeded ``random.Random`` is passed along.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import json
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from bench.runner import user_prefix

BATCH_SIZE = 2000
STREETS = ("Hofstraat", "Kerkweg", "Molenweg", "Dorpsstraat", "Stationsplein", "Brink")


def postcode_letters() -> list[str]:
    """The two letters of a Dutch postcode (not SA, SD, SS)."""
    letters = "ABCDEFGHJKLMNPRSTVWXZ"
    return [a + b for a in letters for b in letters if a + b not in {"SA", "SD", "SS"}]


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


# --- The parts -------------------------------------------------------------------------------


@dataclass
class Reference:
    regions: list
    posts: list
    ranges_of: dict  # post pk -> its postcode ranges
    target_groups: list


def reference_data(*, load: bool = True) -> Reference:
    """The ``regions`` fixture (loaded unless ``load`` is false): the regions, posts, postcode
    ranges and target groups of production."""
    from django.core.management import call_command

    from hap_contracting.organisations.models import HapPost, Region, TargetGroup

    if load:
        call_command("loaddata", "regions", verbosity=0)
    posts = list(HapPost.objects.prefetch_related("postcode_ranges").order_by("pk"))
    return Reference(
        regions=list(Region.objects.order_by("pk")),
        posts=posts,
        ranges_of={post.pk: list(post.postcode_ranges.all()) for post in posts},
        target_groups=list(TargetGroup.objects.order_by("pk")),
    )


def staff(benchmark: str, regions, roles: Sequence[str]) -> dict[tuple[str, int], object]:
    """One user per role per region, ``bench.<benchmark>.<role>.<region>``; the quality team and
    the council are staff (they work in the admin). Keyed by (role, region pk)."""
    from django.contrib.auth.models import Group

    from accounts.models import User
    from hap_contracting.core.roles import Role

    groups = {role: Group.objects.get_or_create(name=role)[0] for role in roles}
    users = {}
    for region in regions:
        for role in roles:
            user = User(
                username=f"{user_prefix(benchmark)}{role}.{region.slug}",
                first_name=str(Role(role).label),
                last_name=region.name,
                email=f"{role}.{region.slug}@bench.invalid",
                region=region,
                is_staff=role in (Role.QUALITY_TEAM, Role.REGIONAL_COUNCIL),
            )
            user.set_unusable_password()
            users[(role, region.pk)] = user
    User.objects.bulk_create(users.values())
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=user.pk, group_id=groups[role].pk)
        for (role, _region), user in users.items()
    )
    return users


def finance_user(benchmark: str):
    """``bench.<benchmark>.finance``: finance sees every region's invoices and imports."""
    from django.contrib.auth.models import Group

    from accounts.models import User
    from hap_contracting.core.roles import Role

    user = User.objects.create_user(f"{user_prefix(benchmark)}finance", region=None)
    user.groups.add(Group.objects.get_or_create(name=Role.FINANCE)[0])
    return user


def organisations(n: int, *, formula_every: int = 0) -> list:
    """``n`` care organisations of every type in turn. With ``formula_every``, every so many
    names start with ``=`` (a formula to a spreadsheet: the exports must escape it)."""
    from hap_contracting.organisations.constants import OrganisationType
    from hap_contracting.organisations.models import CareOrganisation

    types = list(OrganisationType.values)
    return CareOrganisation.objects.bulk_create(
        [
            CareOrganisation(
                name=("=" if formula_every and i % formula_every == formula_every - 1 else "")
                + f"Zorgorganisatie {i + 1:05d}",
                kvk_number=f"{20_000_000 + i}",
                agb_code=f"{73_000_000 + i}",
                organisation_type=types[i % len(types)],
                contact_email=f"info{i + 1}@zorg.invalid",
            )
            for i in range(max(1, n))
        ],
        batch_size=BATCH_SIZE,
    )


def locations(
    n: int,
    reference: Reference,
    organisations_: Sequence,
    rng: random.Random,
    *,
    first_house_number: int = 1,
    without_organisation_every: int = 0,
    addresses: Sequence[tuple[str, int, str]] | None = None,
) -> list:
    """``n`` care locations round-robin over the posts and over ``organisations_``, each with a
    postcode in its post's ranges (or at ``addresses[i]``); 40 % have Wlz treatment admission,
    one in seven a house number addition. With ``without_organisation_every``, every so many
    have no organisation yet."""
    from hap_contracting.organisations.models import CareLocation

    letters = postcode_letters()
    rows = []
    for i in range(n):
        post = reference.posts[i % len(reference.posts)]
        if addresses is not None:
            postcode, house_number, addition = addresses[i]
        else:
            postcode_range = rng.choice(reference.ranges_of[post.pk])
            postcode = (
                f"{rng.randint(postcode_range.first, postcode_range.last)} {rng.choice(letters)}"
            )
            house_number = first_house_number + i
            addition = "AB"[i // 7 % 2] if i % 7 == 0 else ""
        treatment = rng.random() < 0.4
        without = without_organisation_every and i % without_organisation_every == (
            without_organisation_every - 1
        )
        rows.append(
            CareLocation(
                organisation=None if without else organisations_[i % len(organisations_)],
                name=f"Woonzorglocatie {i + 1:06d}",
                street=rng.choice(STREETS),
                house_number=house_number,
                house_number_addition=addition,
                postcode=postcode,
                city=post.city,
                region_id=post.region_id,
                hap_post=post,
                wlz_treatment_admission=treatment,
                treatment_delivered=treatment and rng.random() < 0.9,
                highest_care_profile=rng.randint(4, 10),
                financed_vpt=not treatment and rng.random() < 0.5,
                financed_pgb=rng.random() < 0.3,
                number_of_residents=rng.randint(6, 120),
            )
        )
    CareLocation.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return rows


def target_groups_of(locations_: Iterable, target_groups: Sequence, rng: random.Random) -> None:
    """One or two target groups for every location."""
    from hap_contracting.organisations.models import CareLocation

    through = CareLocation.target_groups.through
    through.objects.bulk_create(
        [
            through(carelocation_id=location.pk, targetgroup_id=group.pk)
            for location in locations_
            for group in rng.sample(target_groups, rng.randint(1, 2))
        ],
        batch_size=BATCH_SIZE * 5,
    )


# Weights of the states requests are drawn in (``request_states``). The latest request of a
# location in the load test: mostly just received, the rest spread over the procedure.
MOSTLY_RECEIVED = {
    "received": 50,
    "pre_assessment": 14,
    "quality_review": 8,
    "council_review": 6,
    "contracting": 6,
    "contracted": 10,
    "rejected": 4,
    "withdrawn": 2,
}
EVERY_STATE = dict.fromkeys(MOSTLY_RECEIVED, 1)
FINISHED = {"contracted": 6, "rejected": 3, "withdrawn": 1}


def request_states(
    n_requests: int, n_locations: int, rng: random.Random, *, latest: dict, earlier: dict
) -> list[str]:
    """The state of request k, which is for location ``k % n_locations`` in "round"
    ``k // n_locations``: drawn from ``latest`` for a location's latest request, from
    ``earlier`` (finished states, so no location has two open requests) for the others."""
    states = []
    for k in range(n_requests):
        weights = latest if k + n_locations >= n_requests else earlier
        states.append(rng.choices(list(weights), weights=list(weights.values()))[0])
    return states


def request(location, users: dict, state: str, **fields):
    """An unsaved request for ``location`` in ``state`` (the FSM field is protected, but may be
    given to the constructor), made by the region's secretariat and, once past reception,
    assigned to its location manager. ``users``: ``staff()``'s, by (role, region pk)."""
    from hap_contracting.core.roles import Role
    from hap_contracting.procedure.constants import RequestKind, RequestState
    from hap_contracting.procedure.models import AdmissionRequest

    region_id = location.region_id
    fields = {
        "kind": RequestKind.NEW_ENTRANT,
        "requester_name": f"Aanvrager {location.pk}",
        "requester_email": f"aanvrager{location.pk}@zorg.invalid",
        "requester_phone": "038 123 45 67",
        "created_by": users[(Role.SECRETARIAT, region_id)],
        "assigned_location_manager": None
        if state == RequestState.RECEIVED
        else users[(Role.LOCATION_MANAGER, region_id)],
        **fields,
    }
    return AdmissionRequest(location=location, state=state, **fields)


def admission_requests(
    locations_: Sequence,
    states: Sequence[str],
    rng: random.Random,
    users: dict,
    *,
    notes: dict[int, str] | None = None,
) -> list:
    """Request k for location ``k % len(locations_)`` in state ``states[k]``, received up to
    four months ago in its location's latest round and a year earlier per round before, every
    kind in turn; an outcome recorded for half of those in contracting and for the contracted
    ones."""
    from django.utils import timezone

    from hap_contracting.procedure.constants import RequestKind
    from hap_contracting.procedure.constants import RequestState as S
    from hap_contracting.procedure.models import AdmissionRequest

    notes = notes or {}
    n_locations, n_requests = len(locations_), len(states)
    kinds = list(RequestKind.values)
    rounds = -(-n_requests // n_locations)
    now = timezone.now()
    rows = []
    for k, state in enumerate(states):
        latest = k + n_locations >= n_requests
        age = datetime.timedelta(
            days=(rounds - 1 - k // n_locations) * 365 + rng.randint(1, 120 if latest else 300),
            minutes=rng.randint(0, 24 * 60),
        )
        entered = now - age
        if state != S.RECEIVED:
            entered += min(age, datetime.timedelta(days=180)) * rng.random()
        outcome_recorded_at = completed_on = None
        if state == S.CONTRACTING and rng.random() < 0.5:
            outcome_recorded_at = entered + (now - entered) * rng.random()
        elif state == S.CONTRACTED:
            outcome_recorded_at = entered - datetime.timedelta(days=rng.randint(1, 30))
            completed_on = timezone.localdate(entered)
        rows.append(
            request(
                locations_[k % n_locations],
                users,
                state,
                kind=kinds[k % len(kinds)],
                received_on=timezone.localdate(now - age),
                notes=notes.get(k, ""),
                state_entered_at=entered,
                outcome_recorded_at=outcome_recorded_at,
                outcome_notes="Uitkomst verwerkt." if outcome_recorded_at else "",
                completed_on=completed_on,
            )
        )
    AdmissionRequest.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return rows


def contract(location, start: datetime.date, end: datetime.date, **fields):
    """An unsaved contract on ``location``, with or without treatment as the location has it."""
    from hap_contracting.contracts.constants import ContractKind
    from hap_contracting.contracts.models import Contract

    kind = ContractKind.WLZ_WITHOUT_TREATMENT
    if location.wlz_treatment_admission:
        kind = ContractKind.WLZ_WITH_TREATMENT
    if fields.get("terminated_on"):
        fields.setdefault("termination_reason", "Beëindigd (benchmark).")
    fields = {"kind": kind, **fields}
    return Contract(
        organisation_id=location.organisation_id,
        location=location,
        region_id=location.region_id,
        start_date=start,
        end_date=end,
        **fields,
    )


def contracts_on(locations_: Sequence, rng: random.Random, today: datetime.date) -> list:
    """A running two-year contract on each location, started in the last 700 days."""
    from hap_contracting.contracts.models import Contract

    rows = []
    for location in locations_:
        start = today - datetime.timedelta(days=rng.randint(0, 700))
        rows.append(contract(location, start, start + datetime.timedelta(days=730)))
    return Contract.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def contracts_from_requests(
    requests: Sequence, n_contracts: int, rng: random.Random, today: datetime.date
) -> list:
    """Contracts from contracted requests: first every location's newest (running or recently
    ended), then the one before it two years earlier, and so on, so that a location's contracts
    follow each other; one in 53 terminated early."""
    from dateutil.relativedelta import relativedelta

    from hap_contracting.contracts.models import Contract
    from hap_contracting.procedure.constants import RequestState

    per_location: dict[int, list] = {}
    for request_ in reversed(requests):
        if request_.state == RequestState.CONTRACTED:
            per_location.setdefault(request_.location_id, []).append(request_)
    origins: list[tuple[object, int]] = []
    depth = 0
    while len(origins) < n_contracts and any(len(r) > depth for r in per_location.values()):
        origins += [(r[depth], depth) for r in per_location.values() if len(r) > depth]
        depth += 1
    if len(origins) < n_contracts:
        raise SystemExit(f"Only {len(origins)} contracted requests for {n_contracts} contracts.")
    rows = []
    for i, (origin, generation) in enumerate(origins[:n_contracts]):
        months = rng.randint(0, 26) + 24 * generation
        start = today - relativedelta(months=months, days=rng.randint(0, 27))
        end = start + relativedelta(months=24) - datetime.timedelta(days=1)
        terminated_on = None
        if i % 53 == 52:
            terminated_on = min(end, start + datetime.timedelta(days=rng.randint(30, 400)))
        rows.append(
            contract(
                origin.location, start, end, terminated_on=terminated_on, admission_request=origin
            )
        )
    return Contract.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def contract_rates(contracts: Iterable, rng: random.Random) -> None:
    """A rate per act on every contract with treatment."""
    from hap_contracting.contracts.constants import ContractKind
    from hap_contracting.contracts.models import ContractRate
    from hap_contracting.tariffs.models import Act

    acts = list(Act.objects.order_by("code"))
    ContractRate.objects.bulk_create(
        [
            ContractRate(contract=c, act=act, amount=rng.choice((130, 150, 200)))
            for c in contracts
            if c.kind == ContractKind.WLZ_WITH_TREATMENT
            for act in acts
        ],
        batch_size=BATCH_SIZE * 5,
    )


def triage_entries(
    locations_: Iterable,
    rng: random.Random,
    today: datetime.date,
    *,
    days: tuple[int, int] = (0, 300),
    reason: str | None = None,
) -> None:
    """A filter entry for each location, listed ``days`` ago, as billing (with treatment) or
    the end of a grace period (without) would leave it, or for ``reason``; and its change of the
    list (the feed's versions), as the services record it."""
    from hap_contracting.triage.constants import TriageFilterReason
    from hap_contracting.triage.models import TriageFilterEntry
    from hap_contracting.triage.services import triage_list_record_missing_changes

    TriageFilterEntry.objects.bulk_create(
        [
            TriageFilterEntry(
                location_id=location.pk,
                reason=reason
                or (
                    TriageFilterReason.BILLED_WITHOUT_CONTRACT
                    if location.wlz_treatment_admission
                    else TriageFilterReason.GRACE_PERIOD_ENDED
                ),
                listed_on=today - datetime.timedelta(days=rng.randint(*days)),
            )
            for location in locations_
        ],
        batch_size=BATCH_SIZE,
    )
    triage_list_record_missing_changes()


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """COPY ``rows`` (tuples) into ``table`` through psycopg 3's own cursor."""
    from django.db import connection

    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
        )


# --- bench/procedure_pages.py ----------------------------------------------------------------

PROCEDURE_ROLES = (
    "secretariat",
    "location_manager",
    "quality_team",
    "regional_council",
    "programme_manager",
)
# The history tables the pages read that the database chains row by row (``core.chain``).
CHAINED_HISTORY = (
    "django_fsm_log_statelog",
    "procedure_advice",
    "procedure_clockevent",
    "contracts_contractevent",
    "billing_payment",
)
# What ``core.chain``'s trigger writes, for the rows of ``{table}`` (one of CHAINED_HISTORY)
# inserted with it switched off into a table with no chained row yet: each row's place and
# hash in the order of the ids, in one statement. The hash runs as a window aggregate over the
# rows (``chain_agg``: the trigger's digest of the previous hash and the row's content, with its
# place), so the chain is computed in one pass instead of a lookup and a lock per row.
CHAIN_FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION pg_temp.chain_step(previous text, content jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS 'SELECT audit_chain_digest(previous, content)';
DROP AGGREGATE IF EXISTS pg_temp.chain_agg(jsonb);
CREATE AGGREGATE pg_temp.chain_agg(jsonb) (SFUNC = pg_temp.chain_step, STYPE = text);
"""
CHAIN_ROWS_SQL = """
ALTER TABLE "{table}" DISABLE TRIGGER audit_append_only;
SET LOCAL timezone TO 'UTC';
WITH numbered AS (
    SELECT id, row_number() OVER (ORDER BY id) AS position, to_jsonb(t) AS content
    FROM "{table}" t
), chained AS (
    SELECT id, position, pg_temp.chain_agg(
        audit_chain_content(content || jsonb_build_object('chain_position', position))
    ) OVER (ORDER BY id) AS hash
    FROM numbered
)
UPDATE "{table}" t SET chain_position = c.position, chain_hash = c.hash
FROM chained c WHERE t.id = c.id;
ALTER TABLE "{table}" ENABLE TRIGGER audit_append_only;
"""


@contextlib.contextmanager
def chain_afterwards(tables: Sequence[str] = CHAINED_HISTORY):
    """Inside: the chain trigger of ``tables`` is off, so bulk inserts don't pay its row lock
    and lookup (about 0.3 ms a row). Afterwards: their rows are chained in one statement per
    table, as the trigger would have chained them (``verify_audit_trail`` passes). For tables
    with no chained row yet, inside a transaction; the database's owner (the benchmark's
    ``postgres``) may switch triggers."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT 1 FROM "{table}" WHERE chain_position IS NOT NULL LIMIT 1')
            if cursor.fetchone():
                raise RuntimeError(f"{table} is chained already: insert with its trigger.")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in tables:
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER audit_chain')
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    yield
    with connection.cursor() as cursor:
        # ALTER TABLE waits for no deferred foreign-key check: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(CHAIN_FUNCTIONS_SQL, params=None)
        for table in tables:
            cursor.execute(CHAIN_ROWS_SQL.format(table=table), params=None)
            cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER audit_chain')
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def procedure_pages(benchmark: str, n_locations: int, n_requests: int, history_mark: str) -> None:
    """What the pages of ``bench/procedure_pages.py`` show, with a history as the services leave
    it: locations (one in fifty without an organisation yet) with target groups, five roles per
    region and two finance users; requests over every state (``procedure_history``: each with
    the transitions, advices, checklist revisions and clock events of its way through the
    procedure); contracts from the contracted requests with their rates and events
    (``contracts_with_events``); a year of invoices with lines, payments and credit notes
    (``invoices_with_payments``). The latest request of a location in the busiest region is
    ``received`` with ``history_mark`` as notes and gets its history through the services
    (``_walk_history``)."""
    from django.db import transaction
    from django.utils import timezone

    rng = random.Random(20260401)
    now = timezone.now()
    with transaction.atomic():
        reference = reference_data()
        users = staff(benchmark, reference.regions, PROCEDURE_ROLES)
        finance = [finance_user(benchmark), second_finance_user(benchmark)]
        organisations_ = organisations(n_locations // 25)
        locations_ = locations(
            n_locations, reference, organisations_, rng, without_organisation_every=50
        )
        target_groups_of(locations_, reference.target_groups, rng)

        located = min(n_locations, n_requests)
        region_of = [locations_[j].region_id for j in range(located)]
        region_id = Counter(region_of).most_common(1)[0][0]
        first = region_of.index(region_id)
        history_k = first + n_locations * ((n_requests - 1 - first) // n_locations)
        states = request_states(n_requests, n_locations, rng, latest=EVERY_STATE, earlier=FINISHED)
        states[history_k] = "received"
        with chain_afterwards():
            requests = procedure_history(
                locations_, states, rng, users, now, notes={history_k: history_mark}
            )
            contracts_with_events(requests, rng, users)
            invoices_with_payments(organisations_, locations_, rng, finance, now)
    _walk_history(users, region_id, history_mark)


def second_finance_user(benchmark: str):
    """``bench.<benchmark>.finance.drafts``: makes the drafts that the other one approves (four
    eyes)."""
    from django.contrib.auth.models import Group

    from accounts.models import User
    from hap_contracting.core.roles import Role

    user = User.objects.create_user(f"{user_prefix(benchmark)}finance.drafts", region=None)
    user.groups.add(Group.objects.get_or_create(name=Role.FINANCE)[0])
    return user


# The procedure's transitions (model method, role that takes it, the advice it records): the
# ways through the procedure below are made of these, in the state graph's order.
FORWARD = ("forward_to_location_manager", "received", "pre_assessment", "secretariat", None)
LM_POSITIVE = (
    "location_manager_advise_positive",
    "pre_assessment",
    "quality_review",
    "location_manager",
    ("location_manager", "positive"),
)
LM_NEGATIVE = (
    "location_manager_advise_negative",
    "pre_assessment",
    "rejected",
    "location_manager",
    ("location_manager", "negative"),
)
QT_POSITIVE = (
    "quality_team_advise_positive",
    "quality_review",
    "council_review",
    "quality_team",
    ("quality_team", "positive"),
)
QT_NEGATIVE = (
    "quality_team_advise_negative",
    "quality_review",
    "rejected",
    "quality_team",
    ("quality_team", "negative"),
)
QT_SEND_BACK = (
    "quality_team_send_back",
    "quality_review",
    "pre_assessment",
    "quality_team",
    ("quality_team", "more_information"),
)
COUNCIL_APPROVE = (
    "council_approve",
    "council_review",
    "contracting",
    "regional_council",
    ("regional_council", "positive"),
)
COUNCIL_REJECT = (
    "council_reject",
    "council_review",
    "rejected",
    "regional_council",
    ("regional_council", "negative"),
)
RECORD_OUTCOME = ("record_outcome", "contracting", "contracting", "location_manager", None)
COMPLETE = ("complete_contracting", "contracting", "contracted", "secretariat", None)
# The columns procedure_history COPYs (in the order of its rows' values).
LOG_COLUMNS = "timestamp state transition object_id by_id content_type_id description source_state"
ADVICE_COLUMNS = """step outcome motivation decided_on recorded_at admission_request_id decided_by_id
    checklist_revision checklist_version norm_days"""
ASSESSMENT_COLUMNS = """id revision status created_at updated_at submitted_at admission_request_id
    created_by_id prefilled_from_id submitted_by_id template_id"""
ANSWER_COLUMNS = "id value explanation remark to_confirm assessment_id item_id"
MOTIVATIONS = {
    "positive": "Voorwacht en achterwacht op orde; SO 24/7 bereikbaar.",
    "negative": "Geen afspraken over de bereikbaarheid van de SO buiten kantoortijd.",
    "more_information": "Graag de dienstregeling van de SO toevoegen.",
}


def procedure_path(state: str, rng: random.Random, *, outcome_recorded: bool) -> list[tuple]:
    """The transitions a request now in ``state`` took, in order: one in five of those that
    reached the quality team was sent back once (half of those sent back now wait for the
    location manager again); a rejection at one of the three advices; a withdrawal (by the
    secretariat or by the requester) in one of the open steps."""
    main = [FORWARD, LM_POSITIVE]
    sent_back = rng.random() < 0.2
    if sent_back:
        main += [QT_SEND_BACK, LM_POSITIVE]
    main += [QT_POSITIVE, COUNCIL_APPROVE, RECORD_OUTCOME, COMPLETE]
    quality, council = main.index(QT_POSITIVE), main.index(COUNCIL_APPROVE)
    if state == "pre_assessment":
        return main[:3] if sent_back and rng.random() < 0.5 else main[:1]
    if state == "rejected":
        stop, last = rng.choice(
            ((1, LM_NEGATIVE), (quality, QT_NEGATIVE), (council, COUNCIL_REJECT))
        )
        return [*main[:stop], last]
    if state == "withdrawn":
        stop = rng.choice((0, 1, quality, council))
        source = main[stop - 1][2] if stop else "received"
        if rng.random() < 0.3:
            return [*main[:stop], ("withdraw_by_requester", source, "withdrawn", None, None)]
        return [*main[:stop], ("withdraw", source, "withdrawn", "secretariat", None)]
    reached = {
        "received": 0,
        "quality_review": quality,
        "council_review": council,
        "contracting": council + 1 + outcome_recorded,
        "contracted": len(main),
    }
    return main[: reached[state]]


def procedure_history(
    locations_: Sequence,
    states: Sequence[str],
    rng: random.Random,
    users: dict,
    now: datetime.datetime,
    *,
    notes: dict[int, str] | None = None,
) -> list:
    """Request k for location ``k % len(locations_)`` in state ``states[k]``, received up to four
    months ago in its location's latest round and a year earlier per round before, every kind in
    turn, registered by the secretariat on the day received; with what the services write on
    its way to that state (``procedure_path``), the steps spread evenly from its registration to
    its last step (up to eight months later, never after now): the history rows, the advices and
    decisions, the checklist revisions (23 answers each, every item met; the revision the
    location manager is filling in is a draft with part of them), the quality team's clock
    suspended by a send-back and resumed by the next revision, an extension of the deadline of
    one in thirty requests in a step with a norm, the outcome recorded and contracting
    completed. The rows of history tables are written with COPY."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Max
    from django.utils import timezone

    from checklist.demo import met_value
    from checklist.models import Answer, Assessment, ChecklistItem
    from checklist.selectors import current_template
    from hap_contracting.procedure.constants import NORM_STEPS, ClockEventKind, RequestKind
    from hap_contracting.procedure.models import AdmissionRequest, Advice, ClockEvent, Norms

    notes = notes or {}
    n_locations, n_requests = len(locations_), len(states)
    kinds = list(RequestKind.values)
    rounds = -(-n_requests // n_locations)
    template = current_template()
    items = list(ChecklistItem.objects.filter(section__template=template).order_by("pk"))
    values = [json.dumps(met_value(item)) for item in items]
    norms = Norms.load()
    rows, walks = [], []
    for k, state in enumerate(states):
        latest = k + n_locations >= n_requests
        age = (rounds - 1 - k // n_locations) * 365 + rng.randint(1, 120 if latest else 300)
        received_on = timezone.localdate(now) - datetime.timedelta(days=age)
        registered = at(received_on, 8) + datetime.timedelta(minutes=rng.randint(0, 600))
        outcome_recorded = rng.random() < 0.5
        path = procedure_path(state, rng, outcome_recorded=outcome_recorded)
        horizon = min(now, registered + datetime.timedelta(days=240))
        last = registered + (horizon - registered) * rng.uniform(0.25, 0.95)
        moments = [registered + (last - registered) * (i + 1) / len(path) for i in range(len(path))]
        changes = [m for step, m in zip(path, moments, strict=True) if step[1] != step[2]]
        moment_of = {step[0]: m for step, m in zip(path, moments, strict=True)}
        outcome_at = moment_of.get(RECORD_OUTCOME[0])
        completed_at = moment_of.get(COMPLETE[0])
        rows.append(
            request(
                locations_[k % n_locations],
                users,
                state,
                kind=kinds[k % len(kinds)],
                received_on=received_on,
                notes=notes.get(k, ""),
                created_at=registered,
                state_entered_at=changes[-1] if changes else registered,
                assigned_location_manager=users[
                    ("location_manager", locations_[k % n_locations].region_id)
                ]
                if path and path[0] == FORWARD
                else None,
                outcome_recorded_at=outcome_at,
                outcome_notes="Uitkomst verwerkt." if outcome_at else "",
                completed_on=timezone.localdate(completed_at) if completed_at else None,
            )
        )
        walks.append((path, moments))
    AdmissionRequest.objects.bulk_create(rows, batch_size=BATCH_SIZE)

    content_type = ContentType.objects.get_for_model(AdmissionRequest)
    log_rows, advice_rows, assessment_rows, answer_rows, clock_events = [], [], [], [], []
    next_assessment = (Assessment.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
    for request_, (path, moments) in zip(rows, walks, strict=True):
        region_id = request_.location.region_id

        def user_id(role, region_id=region_id):
            return users[(role, region_id)].pk if role else None

        revisions: list[list] = []  # [id, number, created, submitted or None]
        suspended_at = None
        entered = request_.created_at
        for i, ((name, source, target, role, advice), moment) in enumerate(
            zip(path, moments, strict=True)
        ):
            following = moments[i + 1] if i + 1 < len(moments) else None
            description = None
            if advice:
                description = MOTIVATIONS[advice[1]]
            elif name == RECORD_OUTCOME[0]:
                description = request_.outcome_notes
            elif name.startswith("withdraw"):
                description = "Aanvraag ingetrokken."
            if name in (LM_POSITIVE[0], LM_NEGATIVE[0]) and revisions:
                revision = revisions[-1]
                if revision[3] is None:
                    revision[3] = moment - (moment - revision[2]) * 0.1
                if suspended_at is not None:
                    clock_events.append(
                        ClockEvent(
                            admission_request=request_,
                            step="quality_review",
                            kind=ClockEventKind.RESUMED,
                            days=max(
                                (
                                    timezone.localdate(revision[3])
                                    - timezone.localdate(suspended_at)
                                ).days,
                                0,
                            ),
                            reason="Nieuwe versie van de checklist ingediend.",
                            at=revision[3],
                            by_id=user_id("location_manager"),
                        )
                    )
                    suspended_at = None
            log_rows.append(
                (
                    moment,
                    target,
                    name,
                    request_.pk,
                    user_id(role),
                    content_type.pk,
                    description,
                    source,
                )
            )
            if advice:
                step, outcome = advice
                submitted = [r for r in revisions if r[3] is not None]
                basis = step != "regional_council" and submitted
                advice_rows.append(
                    (
                        step,
                        outcome,
                        description,
                        timezone.localdate(moment),
                        moment,
                        request_.pk,
                        user_id(role),
                        submitted[-1][1] if basis else None,
                        template.version if basis else "",
                        norms.days(region_id, source, on=timezone.localdate(entered)),
                    )
                )
            if name == QT_SEND_BACK[0]:
                suspended_at = moment
                clock_events.append(
                    ClockEvent(
                        admission_request=request_,
                        step="quality_review",
                        kind=ClockEventKind.SUSPENDED,
                        reason="Teruggestuurd naar de locatiemanager.",
                        at=moment,
                        by_id=user_id("quality_team"),
                    )
                )
            if name in (FORWARD[0], QT_SEND_BACK[0]) and (following or rng.random() < 0.7):
                # The location manager starts a checklist revision soon after.
                created = moment + ((following or now) - moment) * 0.1
                revisions.append([next_assessment, len(revisions) + 1, created, None])
                next_assessment += 1
            if source != target:
                entered = moment
        for number, (pk, revision, created, submitted) in enumerate(revisions):
            manager = user_id("location_manager")
            assessment_rows.append(
                (
                    pk,
                    revision,
                    "submitted" if submitted else "draft",
                    created,
                    submitted or created,
                    submitted,
                    request_.pk,
                    manager,
                    revisions[number - 1][0] if number else None,
                    manager if submitted else None,
                    template.pk,
                )
            )
            answered = len(items) if submitted else len(items) * 3 // 5
            answer_rows += [
                (pk, value, "", "", bool(number) and not submitted, pk, item.pk)
                for item, value in zip(items[:answered], values[:answered], strict=True)
            ]
        if request_.state in NORM_STEPS and rng.random() < 1 / 30:
            since = request_.state_entered_at
            clock_events.append(
                ClockEvent(
                    admission_request=request_,
                    step=request_.state,
                    kind=ClockEventKind.EXTENDED,
                    days=14,
                    reason="Wacht op stukken van de zorgaanbieder.",
                    at=since + (now - since) * 0.5,
                    by_id=user_id("secretariat"),
                )
            )
    # Answer ids: their own sequence, numbered here (COPY names them).
    first_answer = (Answer.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
    answer_rows = [(first_answer + i, *row[1:]) for i, row in enumerate(answer_rows)]
    copy_rows(
        "django_fsm_log_statelog",
        LOG_COLUMNS.split(),
        log_rows,
    )
    copy_rows(
        Advice._meta.db_table,
        ADVICE_COLUMNS.split(),
        advice_rows,
    )
    copy_rows(
        Assessment._meta.db_table,
        ASSESSMENT_COLUMNS.split(),
        assessment_rows,
    )
    copy_rows(
        Answer._meta.db_table,
        ANSWER_COLUMNS.split(),
        answer_rows,
    )
    ClockEvent.objects.bulk_create(clock_events, batch_size=BATCH_SIZE)
    return rows


def contracts_with_events(requests: Sequence, rng: random.Random, users: dict) -> list:
    """A two-year contract from each contracted request of a location with an organisation,
    starting within a month of the completion; one in 53 terminated (when that lies in the
    past); its rates, and its events: created at the completion, the signed document uploaded
    an hour later, the termination."""
    from dateutil.relativedelta import relativedelta
    from django.utils import timezone

    from hap_contracting.contracts.constants import ContractEventKind
    from hap_contracting.contracts.models import Contract, ContractEvent

    today = timezone.localdate()
    rows = []
    for request_ in requests:
        if request_.state != "contracted" or request_.location.organisation_id is None:
            continue
        start = request_.completed_on + datetime.timedelta(days=rng.randint(1, 30))
        end = start + relativedelta(years=2) - datetime.timedelta(days=1)
        terminated_on = None
        if len(rows) % 53 == 52:
            terminated_on = start + datetime.timedelta(days=rng.randint(30, 400))
            if terminated_on >= min(end, today):
                terminated_on = None
        rows.append(
            contract(
                request_.location,
                start,
                end,
                terminated_on=terminated_on,
                admission_request=request_,
            )
        )
    contracts = Contract.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    contract_rates(contracts, rng)
    events = []
    for contract_ in contracts:
        secretariat = users[("secretariat", contract_.region_id)]
        completed = at(contract_.admission_request.completed_on, 11)
        events += [
            ContractEvent(
                contract=contract_,
                kind=ContractEventKind.CREATED,
                description="Contract vastgelegd bij het afronden van de contractering.",
                by=secretariat,
                at=completed,
            ),
            ContractEvent(
                contract=contract_,
                kind=ContractEventKind.DOCUMENT_UPLOADED,
                description="Getekend contract.pdf",
                by=secretariat,
                at=completed + datetime.timedelta(hours=1),
            ),
        ]
        if contract_.terminated_on:
            events.append(
                ContractEvent(
                    contract=contract_,
                    kind=ContractEventKind.TERMINATED,
                    description=contract_.termination_reason,
                    by=secretariat,
                    at=at(contract_.terminated_on, 10),
                )
            )
    ContractEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    return contracts


INVOICE_MONTHS = 12


def invoices_with_payments(
    organisations_: Sequence,
    locations_: Sequence,
    rng: random.Random,
    finance: Sequence,
    now: datetime.datetime,
) -> None:
    """A year of monthly invoices for uncontracted care: each month a fifth of the organisations
    billed, one to six lines (refused claims of one claims file a month, twice the insurer
    tariff) of their locations. Last month's are drafts (made by the second finance user), the
    month's before approved, the older ones sent: two in three of those paid (one in five in two
    parts), one in eight partly paid, the rest open (overdue once past the due date); one in
    forty credited by a credit note. With their history rows (approved, sent)."""
    from dateutil.relativedelta import relativedelta
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone
    from django_fsm_log.models import StateLog

    from hap_contracting.billing.models import Claim, ClaimImport, Invoice, InvoiceLine, Payment
    from hap_contracting.billing.services.invoices import payment_reference
    from hap_contracting.tariffs.models import Act

    approver, maker = finance
    today = timezone.localdate(now)
    newest = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    months = [newest - relativedelta(months=m) for m in reversed(range(INVOICE_MONTHS))]
    acts = list(Act.objects.order_by("code"))
    locations_of: dict[int, list] = {}
    for location in locations_:
        if location.organisation_id:
            locations_of.setdefault(location.organisation_id, []).append(location)
    billed = [o for o in organisations_ if o.pk in locations_of]
    sequence: Counter = Counter()
    invoices, lines_of, claims = [], {}, []
    for m, month in enumerate(months):
        claim_import = ClaimImport.objects.create(
            file=f"claim-imports/bench-{month:%Y-%m}.csv",
            original_name=f"geweigerd-{month:%Y-%m}.csv",
            sha256=f"{m + 1:064x}",
            uploaded_by=approver,
            status="imported",
            finished_at=at(month + relativedelta(months=1), 10),
        )
        for organisation in rng.sample(billed, max(1, len(billed) // 5)):
            lines = []
            for _ in range(rng.randint(1, 6)):
                location = rng.choice(locations_of[organisation.pk])
                act = rng.choice(acts)
                care_on = month + datetime.timedelta(days=rng.randrange(28))
                claims.append(
                    Claim(
                        claim_import=claim_import,
                        line_number=len(claims) + 2,
                        care_at=at(care_on, 23),
                        care_on=care_on,
                        post_id=location.hap_post_id,
                        act=act,
                        patient_reference=f"ZK-{len(claims):08d}",
                        postcode=location.postcode,
                        house_number=location.house_number,
                        house_number_addition=location.house_number_addition,
                        reason_code="WLZ-BEH",
                        location=location,
                    )
                )
                tariff = TARIFFS.get(act.code, Decimal("50.00"))
                lines.append((claims[-1], location, act, care_on, tariff))
            lines_total = sum(2 * line[4] for line in lines)
            costs = Decimal("25.00")
            fields = {
                "organisation": organisation,
                "period": month,
                "lines_total": lines_total,
                "administrative_costs": costs,
                "total": lines_total + costs,
                "created_by": maker,
                "state": "draft",
            }
            if month != newest:
                invoice_date = min(month + relativedelta(months=1, days=3), today)
                sequence[invoice_date.year] += 1
                number = f"{invoice_date.year}-{sequence[invoice_date.year]:05d}"
                sent = m < len(months) - 2
                fields.update(
                    state="sent" if sent else "approved",
                    year=invoice_date.year,
                    sequence=sequence[invoice_date.year],
                    number=number,
                    payment_reference=payment_reference(number),
                    invoice_date=invoice_date,
                    due_date=invoice_date + datetime.timedelta(days=30),
                    approved_by=approver,
                    approved_at=at(invoice_date, 10),
                    sent_at=at(invoice_date, 14) if sent else None,
                )
            invoice = Invoice(**fields)
            invoices.append(invoice)
            lines_of[id(invoice)] = lines
    Claim.objects.bulk_create(claims, batch_size=BATCH_SIZE)
    Invoice.objects.bulk_create(invoices, batch_size=BATCH_SIZE)

    # Credit notes (the invoices they correct exist now), payments and the history rows.
    credit_notes, payments, logs = [], [], []
    invoice_type = ContentType.objects.get_for_model(Invoice)
    for n, invoice in enumerate(invoices):
        if invoice.state == "draft":
            continue
        logs.append(("approve", "draft", "approved", invoice, invoice.approved_at))
        if invoice.state != "sent":
            continue
        logs.append(("send", "approved", "sent", invoice, invoice.sent_at))
        if n % 40 == 39:
            note_date = min(invoice.invoice_date + datetime.timedelta(days=20), today)
            sequence[note_date.year] += 1
            number = f"{note_date.year}-{sequence[note_date.year]:05d}"
            credit_notes.append(
                Invoice(
                    organisation_id=invoice.organisation_id,
                    period=invoice.period,
                    kind="credit_note",
                    corrects=invoice,
                    state="sent",
                    year=note_date.year,
                    sequence=sequence[note_date.year],
                    number=number,
                    payment_reference=payment_reference(number),
                    lines_total=-invoice.lines_total,
                    administrative_costs=-invoice.administrative_costs,
                    total=-invoice.total,
                    reason="Zorg viel onder een contract dat later is vastgelegd.",
                    created_by=approver,
                    approved_by=approver,
                    approved_at=at(note_date, 10),
                    sent_at=at(note_date, 14),
                    invoice_date=note_date,
                    due_date=note_date + datetime.timedelta(days=30),
                )
            )
            lines_of[id(credit_notes[-1])] = lines_of[id(invoice)]
            continue
        chance = rng.random()
        if chance < 2 / 3:
            parts = [invoice.total] if rng.random() < 0.8 else _halves(invoice.total)
        elif chance < 2 / 3 + 1 / 8:
            parts = _halves(invoice.total)[:1]
        else:
            parts = []
        paid_on = invoice.invoice_date
        for part in parts:
            paid_on = min(paid_on + datetime.timedelta(days=rng.randint(5, 30)), today)
            payments.append(
                Payment(
                    invoice=invoice,
                    amount=part,
                    paid_on=paid_on,
                    reference=invoice.payment_reference,
                    recorded_by=approver,
                    recorded_at=at(paid_on, 11),
                )
            )
    Invoice.objects.bulk_create(credit_notes, batch_size=BATCH_SIZE)
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                claim=claim,
                location=location,
                act=act,
                care_on=care_on,
                tariff=tariff,
                amount=-2 * tariff if invoice.kind == "credit_note" else 2 * tariff,
                is_credit=invoice.kind == "credit_note",
            )
            for invoice in invoices + credit_notes
            for claim, location, act, care_on, tariff in lines_of[id(invoice)]
        ],
        batch_size=BATCH_SIZE,
    )
    for note in credit_notes:
        logs.append(("approve", "draft", "approved", note, note.approved_at))
        logs.append(("send", "approved", "sent", note, note.sent_at))
    Payment.objects.bulk_create(payments, batch_size=BATCH_SIZE)
    StateLog.objects.bulk_create(
        [
            StateLog(
                content_type=invoice_type,
                object_id=invoice.pk,
                source_state=source,
                state=target,
                transition=name,
                by=approver,
                timestamp=moment,
            )
            for name, source, target, invoice, moment in logs
        ],
        batch_size=BATCH_SIZE,
    )


def _halves(total: Decimal) -> list[Decimal]:
    first = (total / 2).quantize(Decimal("0.01"))
    return [first, total - first]


def _walk_history(users: dict, region_id: int, history_mark: str) -> None:
    from django.test.utils import override_settings

    from checklist.demo import complete_answers
    from hap_contracting.core.roles import Role
    from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep
    from hap_contracting.procedure.models import AdmissionRequest
    from hap_contracting.procedure.services import admission
    from hap_contracting.procedure.services.pre_assessment import (
        pre_assessment_start,
        pre_assessment_submit,
    )

    request = AdmissionRequest.objects.select_related("location__region").get(notes=history_mark)
    manager = users[(Role.LOCATION_MANAGER, region_id)]
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        request = admission.admission_request_forward(
            admission_request=request,
            by=users[(Role.SECRETARIAT, region_id)],
            location_manager=manager,
        )
        assessment = pre_assessment_start(admission_request=request, by=manager)
        # A renewal's checklist starts from the location's previous one: confirm every answer.
        answers = {
            item: {**answer, "confirmed": True}
            for item, answer in complete_answers(assessment.template).items()
        }
        pre_assessment_submit(assessment=assessment, by=manager, answers=answers)
        for step, role, motivation in (
            (
                AdviceStep.LOCATION_MANAGER,
                Role.LOCATION_MANAGER,
                "Voorwacht en achterwacht op orde; SO 24/7 bereikbaar.",
            ),
            (
                AdviceStep.QUALITY_TEAM,
                Role.QUALITY_TEAM,
                "Checklist volledig; positief advies aan de regioraad.",
            ),
        ):
            admission.admission_request_advise(
                admission_request=request,
                by=users[(role, region_id)],
                step=step,
                outcome=AdviceOutcome.POSITIVE,
                motivation=motivation,
            )


# --- bench/daily_job.py ----------------------------------------------------------------------


def daily_job(benchmark: str, n_contracts: int, today: datetime.date) -> None:
    """Every contract has a care location of its own and a contracted origin request (one in
    ten a regularisation); the end dates are spread uniformly over the five years after
    ``today``, one in 97 terminated. Work for every step of the job: 2 % of the contracts the
    job may renew have their renewal open already (with the reminders sent so far), a few more
    another unfinished request on their location; requests in contracting with the council's
    approval about six months ago; regularisations whose grace period ends around ``today``
    (every fourth at a Wlz-with-treatment location, its grace period ended: the job lists it);
    triage filter entries of locations whose contract runs (the job delists them); overdue
    actions on breaches; sent invoices due around ``today``, some paid (``unpaid_invoices``:
    payment reminders and listings for collection)."""
    from dateutil.relativedelta import relativedelta
    from django.conf import settings
    from django.db import transaction

    from hap_contracting.contracts.constants import BreachActionKind, ContractKind, ReminderKind
    from hap_contracting.contracts.models import (
        Breach,
        BreachAction,
        Contract,
        Reminder,
        renewal_horizon,
    )
    from hap_contracting.core.roles import Role
    from hap_contracting.organisations.models import CareLocation
    from hap_contracting.procedure.constants import (
        UNFINISHED_STATES,
        AdviceOutcome,
        AdviceStep,
        RequestKind,
    )
    from hap_contracting.procedure.constants import RequestState as S
    from hap_contracting.procedure.models import AdmissionRequest, Advice

    rng = random.Random(20261123)
    days = datetime.timedelta
    n_open_renewals = max(1, round(n_contracts * 0.02))
    n_busy = max(2, n_contracts // 2000)
    n_contracting = max(10, n_contracts // 300)
    n_regularisation = max(10, n_contracts // 300)
    n_triage = max(5, n_contracts // 1000)
    n_breach_actions = max(5, n_contracts // 1000)
    n_invoices = max(20, n_contracts // 50)
    roles = (Role.SECRETARIAT, Role.LOCATION_MANAGER, Role.QUALITY_TEAM, Role.REGIONAL_COUNCIL)

    with transaction.atomic():
        reference = reference_data()
        users = staff(benchmark, reference.regions, roles)
        n_locations = n_contracts + n_contracting + n_regularisation
        organisations_ = organisations(n_contracts // 25)
        locations_ = locations(n_locations, reference, organisations_, rng)

        # Contract i: location i, ending on a day of the five years from today (shuffled over
        # the rows), from a contracted origin request; every kind in turn.
        span = ((today + relativedelta(years=5)) - today).days
        offsets = [i * span // n_contracts for i in range(n_contracts)]
        rng.shuffle(offsets)
        origins, contracts = [], []
        kinds = list(ContractKind.values)
        for i, offset in enumerate(offsets):
            end = today + days(offset)
            start = end - relativedelta(years=2) + days(1)
            completed_on = start - days(rng.randint(1, 30))
            regularisation = i % 10 == 9
            origins.append(
                request(
                    locations_[i],
                    users,
                    S.CONTRACTED,
                    kind=RequestKind.REGULARISATION if regularisation else RequestKind.NEW_ENTRANT,
                    received_on=completed_on - days(rng.randint(90, 200)),
                    state_entered_at=at(completed_on),
                    outcome_recorded_at=at(completed_on - days(rng.randint(1, 20))),
                    outcome_notes="Uitkomst verwerkt.",
                    completed_on=completed_on,
                    grace_ends_on=start + days(rng.randint(0, 60)) if regularisation else None,
                )
            )
            terminated = i % 97 == 96
            contracts.append(
                contract(
                    locations_[i],
                    start,
                    end,
                    kind=kinds[i % len(kinds)],
                    terminated_on=max(start, today - days(rng.randint(1, 200)))
                    if terminated
                    else None,
                    admission_request=origins[-1],
                )
            )
        AdmissionRequest.objects.bulk_create(origins, batch_size=BATCH_SIZE)
        Contract.objects.bulk_create(contracts, batch_size=BATCH_SIZE)

        # Contracts the job may renew today; some have their renewal open already, a few have
        # another unfinished request on their location.
        horizon = renewal_horizon(today)
        window = [c for c in contracts if c.terminated_on is None and c.end_date <= horizon]
        rng.shuffle(window)
        renewed, busy = window[:n_open_renewals], window[n_open_renewals:][:n_busy]
        extra_requests, sent_reminders = [], []
        for contract_ in renewed:
            opened_on = contract_.end_date - relativedelta(months=3)
            extra_requests.append(
                request(
                    contract_.location,
                    users,
                    S.PRE_ASSESSMENT,
                    kind=RequestKind.RENEWAL,
                    renews_contract=contract_,
                    received_on=opened_on,
                    notes="Geopend door de dagelijkse taak (benchmark).",
                    state_entered_at=at(min(opened_on + days(2), today - days(1))),
                )
            )
            # What earlier days' runs scheduled and sent: the opening and the reminders due
            # before today.
            due = [(ReminderKind.RENEWAL_OPENED, opened_on)] + [
                (ReminderKind.RENEWAL_DUE, contract_.end_date - days(offset))
                for offset in settings.RENEWAL_REMINDER_DAYS
                if contract_.end_date - days(offset) < today
            ]
            sent_reminders += [
                Reminder(
                    kind=kind,
                    contract=contract_,
                    due_on=due_on,
                    sent_at=at(due_on, 7),
                    recipients="bench@bench.invalid",
                )
                for kind, due_on in due
            ]
        for contract_ in busy:
            extra_requests.append(
                request(
                    contract_.location,
                    users,
                    S.RECEIVED,
                    requester_name="Aanvrager (tweede aanvraag)",
                    received_on=today - days(rng.randint(1, 40)),
                    state_entered_at=at(today - days(1)),
                )
            )

        # Requests in contracting (the council approved them about six months ago) and
        # regularisations whose grace period ends around today, each at a location of its own.
        contracting, advices = [], []
        for j in range(n_contracting):
            location = locations_[n_contracts + j]
            approved_on = today - relativedelta(months=6) + days(rng.randint(-30, 40))
            request_ = request(
                location,
                users,
                S.CONTRACTING,
                received_on=approved_on - days(rng.randint(60, 120)),
                state_entered_at=at(approved_on),
                outcome_recorded_at=at(approved_on + days(20)) if j % 2 else None,
                outcome_notes="Uitkomst verwerkt." if j % 2 else "",
            )
            contracting.append(request_)
            advices += [
                Advice(
                    admission_request=request_,
                    step=step,
                    outcome=AdviceOutcome.POSITIVE,
                    motivation="Positief (benchmark).",
                    decided_on=approved_on - days(before),
                    decided_by=users[(role, location.region_id)],
                )
                for step, role, before in (
                    (AdviceStep.LOCATION_MANAGER, Role.LOCATION_MANAGER, 40),
                    (AdviceStep.QUALITY_TEAM, Role.QUALITY_TEAM, 20),
                    (AdviceStep.REGIONAL_COUNCIL, Role.REGIONAL_COUNCIL, 0),
                )
            ]
        listed_after_grace = []
        for j in range(n_regularisation):
            location = locations_[n_contracts + n_contracting + j]
            if j % 4 == 0:
                # A Wlz-with-treatment location whose grace period ended a few days ago: the job
                # lists it, at every size.
                grace_ends_on = today - days(rng.randint(1, 20))
                listed_after_grace.append(location.pk)
            else:
                grace_ends_on = today + days(rng.randint(-20, 40))
            state = UNFINISHED_STATES[j % len(UNFINISHED_STATES)]
            extra_requests.append(
                request(
                    location,
                    users,
                    state,
                    kind=RequestKind.REGULARISATION,
                    received_on=grace_ends_on - relativedelta(months=3),
                    state_entered_at=at(min(grace_ends_on - days(60), today - days(1))),
                    grace_ends_on=grace_ends_on,
                )
            )
        CareLocation.objects.filter(pk__in=listed_after_grace).update(
            wlz_treatment_admission=True, treatment_delivered=True
        )
        AdmissionRequest.objects.bulk_create(contracting + extra_requests, batch_size=BATCH_SIZE)
        Advice.objects.bulk_create(advices, batch_size=BATCH_SIZE)
        Reminder.objects.bulk_create(sent_reminders, batch_size=BATCH_SIZE)

        # Filter entries of locations whose contract runs (the job delists them), as billing
        # left them, and overdue actions on breaches.
        running = [c for c in contracts if c.start_date <= today and c.terminated_on is None]
        triage_entries(
            [c.location for c in rng.sample(running, n_triage)],
            rng,
            today,
            days=(10, 90),
            reason="billed_without_contract",
        )
        breaches = Breach.objects.bulk_create(
            Breach(
                contract=c,
                observed_on=today - days(rng.randint(70, 120)),
                agreement="SO/AVG niet bereikbaar voor de dienstdoende huisarts.",
                description="Benchmark.",
                recorded_by=users[(Role.SECRETARIAT, c.region_id)],
            )
            for c in rng.sample(contracts, n_breach_actions)
        )
        BreachAction.objects.bulk_create(
            BreachAction(
                breach=breach,
                kind=BreachActionKind.WRITTEN_WARNING,
                description="Schriftelijke waarschuwing met termijn.",
                deadline=today - days(rng.randint(1, 60)),
                completed_on=today - days(1) if k % 4 == 3 else None,
                recorded_by=breach.recorded_by,
            )
            for k, breach in enumerate(breaches)
        )
        unpaid_invoices(benchmark, organisations_, n_invoices, rng, today)


def unpaid_invoices(
    benchmark: str, organisations_: Sequence, n: int, rng: random.Random, today: datetime.date
) -> None:
    """``n`` sent invoices, one per organisation and month, due from two months ago to ten days
    ahead: every fifth partly paid, every fifth paid; half of those whose first payment
    reminder fell due before today have it (sent), as earlier runs of the job left them."""
    from dateutil.relativedelta import relativedelta
    from django.conf import settings

    from hap_contracting.billing.constants import InvoiceState, PaymentReminderKind
    from hap_contracting.billing.models import Invoice, Payment, PaymentReminder

    finance = finance_user(benchmark)
    days = datetime.timedelta
    first_days = settings.PAYMENT_REMINDER_FIRST_DAYS
    this_month = today.replace(day=1)
    invoices, due_dates = [], []
    for k in range(n):
        due_on = today - days(rng.randint(-10, 60))
        total = Decimal(rng.randint(50, 5000))
        due_dates.append(due_on)
        invoices.append(
            Invoice(
                organisation=organisations_[k % len(organisations_)],
                period=this_month - relativedelta(months=1 + k // len(organisations_)),
                state=InvoiceState.SENT,
                year=today.year,
                sequence=k + 1,
                number=f"{today.year}-{k + 1:05d}",
                lines_total=total,
                total=total,
                approved_by=finance,
                approved_at=at(due_on - days(31)),
                sent_at=at(due_on - days(30)),
                invoice_date=due_on - days(30),
                due_date=due_on,
                payment_reference=f"{today.year}{k + 1:05d}",
                reason="bench",
            )
        )
    invoices = Invoice.objects.bulk_create(invoices, batch_size=BATCH_SIZE)
    Payment.objects.bulk_create(
        [
            Payment(
                invoice=invoice,
                amount=invoice.total / (2 if k % 5 == 1 else 1),
                paid_on=due_dates[k] - days(3),
                reference=f"Betaling {invoice.number}",
                recorded_by=finance,
            )
            for k, invoice in enumerate(invoices)
            if k % 5 in (1, 2)
        ],
        batch_size=BATCH_SIZE,
    )
    PaymentReminder.objects.bulk_create(
        [
            PaymentReminder(
                invoice=invoice,
                kind=PaymentReminderKind.FIRST,
                due_on=due_dates[k] + days(first_days),
                sent_at=at(due_dates[k] + days(first_days), 7),
                recipient="bench@bench.invalid",
            )
            for k, invoice in enumerate(invoices)
            if k % 2 == 0 and k % 5 != 2 and due_dates[k] + days(first_days) < today
        ],
        batch_size=BATCH_SIZE,
    )


# --- bench/triage_lookup.py ------------------------------------------------------------------


def triage(n_locations: int, n_contracts: int, n_listed: int) -> None:
    """Locations; running contracts on ``n_contracts`` of them (a tenth also covering another
    location); filter entries on ``n_listed`` locations without a contract."""
    from django.db import transaction
    from django.utils import timezone

    from hap_contracting.contracts.models import Contract
    from hap_contracting.triage.services import triage_verdicts_rebuild

    rng = random.Random(20260401)
    today = timezone.localdate()
    with transaction.atomic():
        reference = reference_data()
        locations_ = locations(n_locations, reference, organisations(n_locations // 25), rng)
        rng.shuffle(locations_)
        contracts = contracts_on(locations_[:n_contracts], rng, today)
        triage_entries(locations_[n_contracts : n_contracts + n_listed], rng, today)
        through = Contract.other_locations.through
        through.objects.bulk_create(
            [
                through(contract_id=c.pk, carelocation_id=other.pk)
                for c, other in zip(
                    contracts[::10], locations_[n_contracts + n_listed :], strict=False
                )
            ],
            batch_size=BATCH_SIZE,
        )
        # Written without the services: the verdict per address is computed once, at the end.
        triage_verdicts_rebuild()


# --- bench/invoice_export.py -----------------------------------------------------------------

EXPORT_ORGANISATIONS = 1000
EXPORT_MONTHS = 12
CLAIM_COLUMNS = """id claim_import_id line_number care_at care_on post_id act_id patient_reference
    bsn_hash postcode house_number house_number_addition reason_code location_id"""
LINE_COLUMNS = (
    "invoice_id claim_id location_id act_id care_on tariff amount is_credit billing_round"
)
TARIFFS = {"CONSULT": Decimal("52.40"), "VISITE": Decimal("78.60"), "TELEFOON": Decimal("26.20")}


def invoice_lines(
    benchmark: str, n_lines: int, n_organisations: int = EXPORT_ORGANISATIONS
) -> None:
    """A finance user; ``n_organisations`` organisations (every 50th name a formula) with two
    locations each; one imported claim file of ``n_lines`` refused claims and as many invoice
    lines, on the monthly invoices of the last twelve months (the newest month still in draft,
    the others sent), written with COPY."""
    from django.db import transaction
    from django.utils import timezone

    from hap_contracting.billing.constants import InvoiceState
    from hap_contracting.billing.models import Claim, ClaimImport, Invoice, InvoiceLine
    from hap_contracting.tariffs.models import Act

    rng = random.Random(20260301)
    user = finance_user(benchmark)
    reference = reference_data()
    orgs = organisations(n_organisations, formula_every=50)
    # Organisation o has locations o and o + n_organisations.
    locations_ = locations(2 * n_organisations, reference, orgs, rng)
    acts = list(Act.objects.order_by("code"))
    tariffs = [TARIFFS.get(act.code, Decimal("50.00")) for act in acts]
    claim_import = ClaimImport.objects.create(
        file="claim-imports/bench.csv",
        original_name="bench.csv",
        sha256="0" * 64,
        uploaded_by=user,
        status="imported",
        imported_count=n_lines,
        finished_at=timezone.now(),
    )
    newest = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    months = []
    for m in range(EXPORT_MONTHS):
        year, month = divmod(newest.year * 12 + newest.month - 1 - m, 12)
        months.append(datetime.date(year, month + 1, 1))
    n_invoices = EXPORT_MONTHS * n_organisations

    def line(i: int):
        """Line i: its invoice's index (months outer, organisations inner), location, act."""
        j = i % n_invoices
        location = locations_[j % n_organisations + n_organisations * (i % 2)]
        care_on = months[j // n_organisations] + datetime.timedelta(days=i % 28)
        return j, location, i % len(acts), care_on

    # Totals first: a sent invoice can't be updated afterwards (its trigger refuses).
    totals = [Decimal("0.00")] * n_invoices
    for i in range(n_lines):
        j, _location, a, _care_on = line(i)
        totals[j] += tariffs[a] * 2
    invoices, sequence = [], 0
    for j in range(n_invoices):
        period = months[j // n_organisations]
        sent = period != months[0]
        sequence += sent
        invoices.append(
            Invoice(
                organisation=orgs[j % n_organisations],
                period=period,
                state=InvoiceState.SENT if sent else InvoiceState.DRAFT,
                year=period.year if sent else None,
                sequence=sequence if sent else None,
                number=f"{period.year}-{sequence:05d}" if sent else "",
                lines_total=totals[j],
                total=totals[j],
                reason="bench",
            )
        )
    invoices = Invoice.objects.bulk_create(invoices, batch_size=BATCH_SIZE)
    zone = timezone.get_current_timezone()

    # fmt: off
    def claims():  # the columns of CLAIM_COLUMNS
        for i in range(n_lines):
            _j, location, a, care_on = line(i)
            care_at = datetime.datetime.combine(care_on, datetime.time(23, 15), tzinfo=zone)
            yield (i + 1, claim_import.pk, i + 2, care_at, care_on, location.hap_post_id,
                   acts[a].pk, f"ZK-{i:08d}", "", location.postcode, location.house_number,
                   location.house_number_addition, "WLZ-BEH", location.pk)

    def lines():  # the columns of LINE_COLUMNS
        for i in range(n_lines):
            j, location, a, care_on = line(i)
            yield (invoices[j].pk, i + 1, location.pk, acts[a].pk, care_on, tariffs[a],
                   tariffs[a] * 2, False, 0)
    # fmt: on

    with transaction.atomic():
        copy_rows(Claim._meta.db_table, CLAIM_COLUMNS.split(), claims())
        copy_rows(InvoiceLine._meta.db_table, LINE_COLUMNS.split(), lines())


# --- bench/claims_import.py ------------------------------------------------------------------


def claim_addresses(count: int, seed: int = 11) -> list[tuple[str, int, str]]:
    """``count`` distinct addresses (postcode, house number, addition) the claims come from."""
    rng = random.Random(seed)
    letters = postcode_letters()
    found: set[tuple[str, int, str]] = set()
    while len(found) < count:
        found.add(
            (
                f"{rng.randint(1000, 9999)} {rng.choice(letters)}",
                rng.randint(1, 300),
                rng.choice(("", "", "", "A", "B")),
            )
        )
    return sorted(found)


def claims_reference(benchmark: str, addresses: Sequence[tuple[str, int, str]]) -> None:
    """Posts (the fixture), the standard acts (a migration), a finance user and a care location
    at each of ``addresses``."""
    from django.db import transaction

    with transaction.atomic():
        reference = reference_data()
        finance_user(benchmark)
        locations(
            len(addresses), reference, organisations(1), random.Random(5), addresses=addresses
        )


def _valid_bsns(rng: random.Random, count: int) -> list[str]:
    from hap_contracting.core.validators import bsn_is_valid

    found = []
    while len(found) < count:
        digits = [rng.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        bsn = "".join(map(str, digits)) + str(check)
        if check < 10 and bsn_is_valid(bsn):
            found.append(bsn)
    return found


def write_claims_file(
    path: Path, lines: int, addresses: Sequence[tuple[str, int, str]], seed: int = 20260401
) -> None:
    """A claims file of the import's template columns: known post names, the standard acts,
    care in the past, every (post, act, time, patient reference) unique, one line in ten with a
    valid BSN."""
    from hap_contracting.billing.services.claims_import import COLUMNS
    from hap_contracting.organisations.models import HapPost
    from hap_contracting.tariffs.models import Act

    rng = random.Random(seed)
    posts = list(HapPost.objects.values_list("name", flat=True))
    acts = list(
        Act.objects.filter(code__in=("CONSULT", "VISITE", "TELEFOON")).values_list(
            "code", flat=True
        )
    )
    if len(acts) != 3 or not posts:
        raise SystemExit("The standard acts or the posts are missing (migrations, fixture).")
    bsns = _valid_bsns(rng, 1000)
    start = datetime.datetime(2024, 1, 1)
    minutes = 2 * 365 * 24 * 60
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow([column.header for column in COLUMNS])
        for i in range(lines):
            postcode, number, addition = rng.choice(addresses)
            care_at = start + datetime.timedelta(minutes=rng.randrange(minutes))
            writer.writerow(
                [
                    care_at.strftime("%Y-%m-%d %H:%M"),
                    rng.choice(posts),
                    rng.choice(acts),
                    f"ZK-{i:07d}",
                    rng.choice(bsns) if i % 10 == 0 else "",
                    postcode,
                    number,
                    addition,
                    "WLZ-BEH",
                ]
            )


# --- bench/load/run.py -----------------------------------------------------------------------


def load_volume(n_locations: int, n_requests: int, n_contracts: int) -> None:
    """On top of the demo (``seed_demo``, whose logins it uses): locations with target groups
    (house numbers from 1,000 up, above the demo's), requests over states and regions with the
    history that brought each to its state (``request_history``), contracts from contracted
    requests with their rates and history, a year of invoices to half of the organisations
    (``load_billing``) and address investigations (``load_investigations``)."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from hap_contracting.operations.management.commands.seed_demo import ROLE_USERNAMES

    rng = random.Random(20260501)
    prefix_of = {prefix: role for role, (prefix, _first, _last) in ROLE_USERNAMES.items()}
    with transaction.atomic():
        reference = reference_data(load=False)  # seed_demo loaded it
        users = {
            (prefix_of[user.username.split(".")[0]], user.region_id): user
            for user in User.objects.filter(region__isnull=False)
            if user.username.split(".")[0] in prefix_of
        }
        locations_ = locations(
            n_locations, reference, organisations(n_locations // 25), rng, first_house_number=1000
        )
        target_groups_of(locations_, reference.target_groups, rng)
        states = request_states(
            n_requests, n_locations, rng, latest=MOSTLY_RECEIVED, earlier=FINISHED
        )
        requests = admission_requests(locations_, states, rng, users)
        contracts = contracts_from_requests(requests, n_contracts, rng, timezone.localdate())
        contract_rates(contracts, rng)
        request_history(requests, users, rng)
        contract_history(contracts, users)
        load_billing(locations_, rng)
        load_investigations(locations_, reference, rng)


# The history of a load request: the steps that brought it to its state, each (transition,
# source, target, role taking it, (advice step, outcome) it records or None). Built from the
# names in ``_load_steps``; a request in pre-assessment or later was once sent back by the
# quality team in one case in seven.
LOAD_MOTIVATIONS = {
    ("location_manager", "positive"): "Voorwacht en achterwacht op orde; SO 24/7 bereikbaar.",
    ("location_manager", "negative"): "Geen achterwacht in de avond; knock-out niet gehaald.",
    ("quality_team", "positive"): "Checklist volledig; positief advies aan de regioraad.",
    ("quality_team", "negative"): "Zorgprofiel past niet bij ANW-zorg; negatief advies.",
    ("quality_team", "more_information"): "Graag de afspraken met de SO-dienst toevoegen.",
    ("regional_council", "positive"): "Akkoord met het advies van het kwaliteitsteam.",
    ("regional_council", "negative"): "Niet akkoord: de regio heeft geen capaciteit.",
}


TRANSITION_COLUMNS = (
    "timestamp by_id source_state state transition content_type_id object_id description"
)
LOAD_ADVICE_COLUMNS = """admission_request_id step outcome motivation decided_on decided_by_id
    recorded_at checklist_version checklist_revision"""
LOAD_ASSESSMENT_COLUMNS = """admission_request_id revision template_id status created_by_id
    created_at updated_at submitted_at submitted_by_id"""
LOAD_ANSWER_COLUMNS = "assessment_id item_id value explanation remark to_confirm"


@dataclass(frozen=True)
class _Step:
    name: str
    source: str
    target: str
    role: str
    advice: tuple[str, str] | None = None


def _load_steps() -> dict[str, _Step]:
    from hap_contracting.core.roles import Role
    from hap_contracting.procedure.constants import AdviceOutcome as O
    from hap_contracting.procedure.constants import AdviceStep as A
    from hap_contracting.procedure.constants import RequestState as S

    return {
        "forward": _Step("forward_to_location_manager", S.RECEIVED, S.PRE_ASSESSMENT,
                         Role.SECRETARIAT),
        "lm+": _Step("location_manager_advise_positive", S.PRE_ASSESSMENT, S.QUALITY_REVIEW,
                     Role.LOCATION_MANAGER, (A.LOCATION_MANAGER, O.POSITIVE)),
        "lm-": _Step("location_manager_advise_negative", S.PRE_ASSESSMENT, S.REJECTED,
                     Role.LOCATION_MANAGER, (A.LOCATION_MANAGER, O.NEGATIVE)),
        "qt+": _Step("quality_team_advise_positive", S.QUALITY_REVIEW, S.COUNCIL_REVIEW,
                     Role.QUALITY_TEAM, (A.QUALITY_TEAM, O.POSITIVE)),
        "qt-": _Step("quality_team_advise_negative", S.QUALITY_REVIEW, S.REJECTED,
                     Role.QUALITY_TEAM, (A.QUALITY_TEAM, O.NEGATIVE)),
        "qt?": _Step("quality_team_send_back", S.QUALITY_REVIEW, S.PRE_ASSESSMENT,
                     Role.QUALITY_TEAM, (A.QUALITY_TEAM, O.MORE_INFORMATION)),
        "rr+": _Step("council_approve", S.COUNCIL_REVIEW, S.CONTRACTING,
                     Role.REGIONAL_COUNCIL, (A.REGIONAL_COUNCIL, O.POSITIVE)),
        "rr-": _Step("council_reject", S.COUNCIL_REVIEW, S.REJECTED,
                     Role.REGIONAL_COUNCIL, (A.REGIONAL_COUNCIL, O.NEGATIVE)),
        "outcome": _Step("record_outcome", S.CONTRACTING, S.CONTRACTING, Role.LOCATION_MANAGER),
        "complete": _Step("complete_contracting", S.CONTRACTING, S.CONTRACTED, Role.SECRETARIAT),
    }  # fmt: skip


def _load_path(request, steps: dict[str, _Step], rng: random.Random) -> list[_Step]:
    """The steps of ``request`` (its state, whether its outcome was recorded)."""
    from hap_contracting.core.roles import Role
    from hap_contracting.procedure.constants import RequestState as S

    back = rng.random() < 1 / 7
    names = {
        S.RECEIVED: [],
        S.PRE_ASSESSMENT: ["forward", *(["lm+", "qt?"] if back else [])],
        S.QUALITY_REVIEW: ["forward", "lm+", *(["qt?", "lm+"] if back else [])],
    }
    names[S.COUNCIL_REVIEW] = [*names[S.QUALITY_REVIEW], "qt+"]
    names[S.CONTRACTING] = [*names[S.COUNCIL_REVIEW], "rr+"]
    if request.outcome_recorded_at is not None:
        names[S.CONTRACTING].append("outcome")
    names[S.CONTRACTED] = [*names[S.COUNCIL_REVIEW], "rr+", "outcome", "complete"]
    names[S.REJECTED] = rng.choice(
        (["forward", "lm-"], [*names[S.QUALITY_REVIEW], "qt-"], [*names[S.COUNCIL_REVIEW], "rr-"])
    )
    if request.state == S.WITHDRAWN:
        before = [steps[name] for name in rng.choice(([], ["forward"], ["forward", "lm+"]))]
        source = before[-1].target if before else S.RECEIVED
        return [*before, _Step("withdraw", source, S.WITHDRAWN, Role.SECRETARIAT)]
    return [steps[name] for name in names[request.state]]


def _step_moments(request, path: list[_Step], rng: random.Random) -> list[datetime.datetime]:
    """When each step was taken: spread from the day the request came in to the moment it
    entered its state (the last step's); recording the outcome of a request still in
    contracting comes after that, at ``outcome_recorded_at``."""
    end = request.state_entered_at
    steps = path[:-1] if path and path[-1].name == "record_outcome" else path
    start = min(at(request.received_on), end - datetime.timedelta(hours=len(steps) + 1))
    moments = [
        start + (end - start) * ((i + rng.uniform(0.3, 0.9)) / len(steps))
        for i in range(len(steps) - 1)
    ] + ([end] if steps else [])
    if len(steps) < len(path):
        moments.append(request.outcome_recorded_at)
    for i, step in enumerate(path):
        if step.name == "record_outcome" and i + 1 < len(path):
            # Contracted: the outcome was recorded between the decision and the completion.
            wanted = request.outcome_recorded_at
            low, high = moments[i - 1], moments[i + 1]
            moments[i] = wanted if low < wanted < high else low + (high - low) / 2
    return moments


def request_history(requests: Sequence, users: dict, rng: random.Random) -> None:
    """Every request's history as the services would have written it: a transition row per
    step (by the role that takes it), the advices and the council's decision with their
    motivations, and the location manager's checklist (a revision per time the quality team sent
    it back; submitted with every item met, or a draft while the step is open), written with
    COPY. ``users``: ``load_volume``'s, by (role, region pk)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone
    from django_fsm_log.models import StateLog
    from psycopg.types.json import Jsonb

    from checklist.constants import AssessmentStatus
    from checklist.demo import met_value
    from checklist.models import Answer, Assessment, ChecklistItem, ChecklistTemplate
    from hap_contracting.core.roles import Role
    from hap_contracting.procedure.models import AdmissionRequest, Advice

    steps = _load_steps()
    template = ChecklistTemplate.objects.order_by("-pk").first()
    items = list(ChecklistItem.objects.filter(section__template=template).order_by("pk"))
    content_type = ContentType.objects.get_for_model(AdmissionRequest)
    transitions, advices, assessments = [], [], []
    for request in requests:
        path = _load_path(request, steps, rng)
        region_id = request.location.region_id
        revision = 0
        for step, moment in zip(path, _step_moments(request, path, rng), strict=True):
            by = users[(step.role, region_id)].pk
            description = None
            if step.name in ("forward_to_location_manager", "quality_team_send_back"):
                revision += 1  # the location manager starts (another) checklist revision
                manager = users[(Role.LOCATION_MANAGER, region_id)].pk
                assessments.append([request.pk, revision, manager, moment, None])
            if step.advice is not None:
                description = LOAD_MOTIVATIONS[step.advice]
                advices.append(
                    (request.pk, *step.advice, description, timezone.localdate(moment), by,
                     moment, template.version, revision)
                )  # fmt: skip
            if step.advice and step.advice[0] == "location_manager":
                assessments[-1][4] = moment  # submitted with the advice
            transitions.append(
                (moment, by, step.source, step.target, step.name, content_type.pk, request.pk,
                 description)
            )  # fmt: skip
    copy_rows(
        StateLog._meta.db_table,
        TRANSITION_COLUMNS.split(),
        transitions,
    )
    copy_rows(
        Advice._meta.db_table,
        LOAD_ADVICE_COLUMNS.split(),
        advices,
    )
    copy_rows(
        Assessment._meta.db_table,
LOAD_ASSESSMENT_COLUMNS.split(),
        (
            (request_pk, revision, template.pk,
             AssessmentStatus.SUBMITTED if submitted else AssessmentStatus.DRAFT,
             manager, started, submitted or started, submitted, manager if submitted else None)
            for request_pk, revision, manager, started, submitted in assessments
        ),
    )  # fmt: skip
    first = min((row[0] for row in assessments), default=0)
    submitted_of = {(row[0], row[1]): row[4] is not None for row in assessments}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, admission_request_id, revision FROM {Assessment._meta.db_table} "
            "WHERE admission_request_id >= %s",
            [first],
        )
        made = cursor.fetchall()
    # A draft has the first two thirds of its items answered.
    draft_items = items[: len(items) * 2 // 3]
    values = [Jsonb(met_value(item)) for item in items]
    copy_rows(
        Answer._meta.db_table,
        LOAD_ANSWER_COLUMNS.split(),
        (
            (pk, item.pk, value, "", "", False)
            for pk, request_pk, revision in made
            if (request_pk, revision) in submitted_of
            for item, value in zip(
                items if submitted_of[(request_pk, revision)] else draft_items, values, strict=False
            )
        ),
    )


def contract_history(contracts: Sequence, users: dict) -> None:
    """Each contract's history: created by the region's secretariat the day before it starts,
    terminated (when it was) on its termination date."""
    from hap_contracting.contracts.constants import ContractEventKind
    from hap_contracting.contracts.models import ContractEvent
    from hap_contracting.core.roles import Role

    events = []
    for contract in contracts:
        by = users[(Role.SECRETARIAT, contract.region_id)]
        events.append(
            ContractEvent(
                contract=contract,
                kind=ContractEventKind.CREATED,
                description="Contract vastgelegd na het besluit van de regioraad.",
                by=by,
                at=at(contract.start_date - datetime.timedelta(days=1), 11),
            )
        )
        if contract.terminated_on:
            events.append(
                ContractEvent(
                    contract=contract,
                    kind=ContractEventKind.TERMINATED,
                    description=contract.termination_reason,
                    by=by,
                    at=at(contract.terminated_on, 14),
                )
            )
    ContractEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)


LOAD_BILLING_MONTHS = 12


def load_billing(locations_: Sequence, rng: random.Random) -> None:
    """A year of monthly invoices to every other organisation with Wlz-with-treatment
    locations: 3 to 25 refused claims a month (one claim file per month), each an invoice line
    at twice the insurer's tariff; the newest month in draft, the one before approved or sent,
    the older ones sent, most of them paid (some in part), as finance made, approved and sent
    them (``seed_demo``'s two finance logins)."""
    from django.db.models import Max
    from django.utils import timezone

    from accounts.models import User
    from hap_contracting.billing.constants import InvoiceState, PaymentSource
    from hap_contracting.billing.models import (
        AdministrativeCost,
        Claim,
        ClaimImport,
        Invoice,
        InvoiceLine,
        InvoiceNumberSequence,
        Payment,
    )
    from hap_contracting.billing.selectors import (
        invoice_sender,
        recipient_details,
        sender_details,
    )
    from hap_contracting.billing.services.invoices import payment_reference
    from hap_contracting.organisations.models import CareOrganisation
    from hap_contracting.tariffs.models import Act

    maker = User.objects.get(username="financien")
    approver = User.objects.get(username="financien.controle")
    acts = list(Act.objects.filter(code__in=TARIFFS).order_by("code"))
    cost = AdministrativeCost.objects.order_by("-valid_from").values_list("amount", flat=True)
    costs = cost.first() or Decimal("0.00")
    sender = sender_details(invoice_sender())
    treated: dict[int, list] = {}
    for location in locations_:
        if location.wlz_treatment_admission and location.organisation_id:
            treated.setdefault(location.organisation_id, []).append(location)
    billed = sorted(treated)[::2]
    recipients = {
        organisation.pk: recipient_details(organisation)
        for organisation in CareOrganisation.objects.filter(pk__in=billed)
    }
    today = timezone.localdate()
    newest = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    months = []
    for m in range(LOAD_BILLING_MONTHS):
        year, month = divmod(newest.year * 12 + newest.month - 1 - m, 12)
        months.append(datetime.date(year, month + 1, 1))
    sequences = dict(
        Invoice.objects.filter(year__isnull=False)
        .values_list("year")
        .annotate(last=Max("sequence"))
        .values_list("year", "last")
    )
    invoices, claims, line_of = [], [], []
    for age, period in enumerate(months):
        claim_import = ClaimImport.objects.create(
            file=f"claim-imports/load-{period:%Y-%m}.csv",
            original_name=f"afwijzingen-{period:%Y-%m}.csv",
            sha256=f"{period:%Y%m}".ljust(64, "0"),
            uploaded_by=maker,
            status="imported",
            finished_at=at(period + datetime.timedelta(days=35), 10),
        )
        line_number = 1
        for organisation_pk in billed:
            state = InvoiceState.SENT
            if age == 0:
                state = InvoiceState.DRAFT
            elif age == 1 and rng.random() < 0.5:
                state = InvoiceState.APPROVED
            invoice = Invoice(
                organisation_id=organisation_pk,
                period=period,
                state=state,
                created_by=maker,
                administrative_costs=costs,
                reason="",
            )
            if state != InvoiceState.DRAFT:
                invoice.invoice_date = period + datetime.timedelta(days=40)
                invoice.year = invoice.invoice_date.year
                sequences[invoice.year] = invoice.sequence = sequences.get(invoice.year, 0) + 1
                invoice.number = f"{invoice.year}-{invoice.sequence:05d}"
                invoice.due_date = invoice.invoice_date + datetime.timedelta(days=30)
                invoice.payment_reference = payment_reference(invoice.number)
                invoice.issued_parties = {
                    "sender": sender,
                    "recipient": recipients[organisation_pk],
                }
                invoice.approved_at = at(invoice.invoice_date, 10)
                invoice.approved_by = approver
                if state == InvoiceState.SENT:
                    invoice.sent_at = at(invoice.invoice_date, 11)
            lines_total = Decimal("0.00")
            for _ in range(rng.randint(3, 25)):
                location = rng.choice(treated[organisation_pk])
                act = rng.choice(acts)
                care_on = period + datetime.timedelta(days=rng.randrange(28))
                claims.append(
                    Claim(
                        claim_import=claim_import,
                        line_number=line_number,
                        care_at=at(care_on, rng.choice((18, 20, 23, 2))),
                        care_on=care_on,
                        post_id=location.hap_post_id,
                        act=act,
                        patient_reference=f"LD-{len(claims):07d}",
                        postcode=location.postcode,
                        house_number=location.house_number,
                        house_number_addition=location.house_number_addition,
                        reason_code="WLZ-BEH",
                        location=location,
                    )
                )
                line_of.append((len(invoices), location.pk, act.pk, care_on, TARIFFS[act.code]))
                lines_total += TARIFFS[act.code] * 2
                line_number += 1
            invoice.lines_total = lines_total
            invoice.total = lines_total + costs
            invoices.append(invoice)
        claim_import.total_lines = claim_import.imported_count = line_number - 1
        claim_import.processed_lines = line_number - 1
        claim_import.save()
    # Totals are known before the INSERT: a sent invoice can't be updated (its trigger).
    invoices = Invoice.objects.bulk_create(invoices, batch_size=BATCH_SIZE)
    claims = Claim.objects.bulk_create(claims, batch_size=BATCH_SIZE)
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoices[j],
                claim=claim,
                location_id=location_pk,
                act_id=act_pk,
                care_on=care_on,
                tariff=tariff,
                amount=tariff * 2,
            )
            for claim, (j, location_pk, act_pk, care_on, tariff) in zip(
                claims, line_of, strict=True
            )
        ],
        batch_size=BATCH_SIZE,
    )
    for year, last in sequences.items():
        InvoiceNumberSequence.objects.update_or_create(year=year, defaults={"last_number": last})
    payments = []
    for invoice in invoices:
        if invoice.state != InvoiceState.SENT or invoice.due_date > today:
            continue
        share = rng.random()
        if share < 0.1:
            continue  # overdue, not paid
        amount = invoice.total if share > 0.15 else (invoice.total / 2).quantize(Decimal("0.01"))
        paid_on = min(today, invoice.invoice_date + datetime.timedelta(days=rng.randint(10, 45)))
        payments.append(
            Payment(
                invoice=invoice,
                amount=amount,
                paid_on=paid_on,
                reference=invoice.payment_reference,
                source=PaymentSource.MANUAL,
                recorded_by=maker,
                recorded_at=at(paid_on, 15),
            )
        )
    Payment.objects.bulk_create(payments, batch_size=BATCH_SIZE)


def load_investigations(locations_: Sequence, reference: Reference, rng: random.Random) -> None:
    """One address investigation per twenty locations, round-robin over the posts, opened in
    the last 200 days; three in five resolved (the organisation found, then told), by the
    region's location manager; each address with a few refused claims."""
    from django.utils import timezone

    from accounts.models import User
    from hap_contracting.billing.constants import NotificationChannel
    from hap_contracting.billing.models import AddressInvestigation, Claim, ClaimImport
    from hap_contracting.core.roles import Role
    from hap_contracting.tariffs.models import Act

    today = timezone.localdate()
    managers = {
        user.region_id: user
        for user in User.objects.filter(groups__name=Role.LOCATION_MANAGER, region__isnull=False)
    }
    by_post: dict[int, list] = {}
    for location in locations_:
        by_post.setdefault(location.hap_post_id, []).append(location)
    act = Act.objects.filter(code__in=TARIFFS).order_by("code").first()
    claim_import = ClaimImport.objects.create(
        file="claim-imports/load-investigations.csv",
        original_name="afwijzingen-onbekende-adressen.csv",
        sha256="f" * 64,
        uploaded_by=User.objects.get(username="financien"),
        status="imported",
        finished_at=timezone.now(),
    )
    letters = postcode_letters()
    investigations, claims = [], []
    for i in range(max(6, len(locations_) // 20)):
        post = reference.posts[i % len(reference.posts)]
        postcode_range = rng.choice(reference.ranges_of[post.pk])
        postcode = f"{rng.randint(postcode_range.first, postcode_range.last)} {rng.choice(letters)}"
        opened_on = today - datetime.timedelta(days=rng.randint(1, 200))
        investigation = AddressInvestigation(
            post=post, postcode=postcode, house_number=10_000 + i, opened_on=opened_on
        )
        if rng.random() < 0.6 and by_post.get(post.pk):
            resolved_on = opened_on + (today - opened_on) * rng.random()
            investigation.location = rng.choice(by_post[post.pk])
            investigation.resolved_at = at(resolved_on, 13)
            investigation.resolved_by = managers.get(post.region_id)
            investigation.notified_on = resolved_on
            investigation.notified_how = rng.choice(NotificationChannel.values)
        investigations.append(investigation)
        for k in range(rng.randint(1, 4)):
            care_on = opened_on - datetime.timedelta(days=k * 3 + 5)
            claims.append(
                Claim(
                    claim_import=claim_import,
                    line_number=len(claims) + 1,
                    care_at=at(care_on, 22),
                    care_on=care_on,
                    post=post,
                    act=act,
                    patient_reference=f"LO-{len(claims):07d}",
                    postcode=postcode,
                    house_number=10_000 + i,
                    reason_code="WLZ-BEH",
                )
            )
    AddressInvestigation.objects.bulk_create(investigations, batch_size=BATCH_SIZE)
    Claim.objects.bulk_create(claims, batch_size=BATCH_SIZE)
    claim_import.total_lines = claim_import.imported_count = len(claims)
    claim_import.processed_lines = len(claims)
    claim_import.save()


def load_logins(encoded_password: str) -> None:
    """The logins of ``bench.load.logins`` for the roles with a second factor, each with a
    confirmed authenticator (``totp_key``); made again with ``encoded_password`` (a password
    hash made once: hashing per login would cost a second each) and unused authenticators on
    every run, so no code of an earlier run counts as used."""
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from accounts.services import DEVICE_NAME
    from bench.load import logins
    from hap_contracting.core.roles import Role
    from hap_contracting.organisations.models import Region

    regions = {region.slug: region for region in Region.objects.all()}
    wanted = {}
    for username in logins.council_logins():
        wanted[username] = (Role.REGIONAL_COUNCIL, regions[username.split(".")[3]], False)
    for username in logins.finance_logins():
        wanted[username] = (Role.FINANCE, None, False)
    for username in logins.administrator_logins():
        wanted[username] = (Role.ADMINISTRATOR, None, True)
    with transaction.atomic():
        User.objects.bulk_create(
            [
                User(
                    username=username,
                    first_name=str(Role(role).label),
                    last_name=f"belasting {username.rsplit('.', 1)[-1]}",
                    email=f"{username}@bench.invalid",
                    region=region,
                    is_staff=role in (Role.REGIONAL_COUNCIL, Role.ADMINISTRATOR),
                    is_superuser=superuser,
                )
                for username, (role, region, superuser) in wanted.items()
            ],
            ignore_conflicts=True,
        )
        users = User.objects.filter(username__in=wanted)
        users.update(password=encoded_password, is_active=True)
        groups = {
            role: Group.objects.get_or_create(name=role)[0] for role, _r, _s in wanted.values()
        }
        User.groups.through.objects.bulk_create(
            [
                User.groups.through(user_id=user.pk, group_id=groups[wanted[user.username][0]].pk)
                for user in users
            ],
            ignore_conflicts=True,
        )
        TOTPDevice.objects.filter(user__in=users).delete()
        TOTPDevice.objects.bulk_create(
            TOTPDevice(
                user=user, name=DEVICE_NAME, confirmed=True, key=logins.totp_key(user.username)
            )
            for user in users
        )
