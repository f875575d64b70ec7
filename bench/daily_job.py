"""Benchmark of the daily job (``operations.services.daily_job``) against hand-written set-based
SQL that writes the same rows, and of the reminder sender
(``contracts.services.reminders.reminders_send_pending``), on a production-sized register.

Run from the repository root::

    .venv/bin/python bench/daily_job.py --smoke
    .venv/bin/python bench/daily_job.py --contracts 100000 --small 1000 --repeat 5 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench_jobs

Two data sets (``bench.datasets.daily_job``) are built, each in a PostgreSQL database of its
own: ``--contracts`` contracts in the database of ``--database-url`` and ``--small`` contracts
in the database of the same name with ``_small`` appended. A database is created when missing
and dropped and built again when its data set differs from the one asked for, or with
``--rebuild``; a database to build is copied from the benchmarks' migrated template
(``runner.ensure_template``). The script refuses to drop a database holding users it did not create.
``--smoke``: 3,000 and 300 contracts, 3 timed runs.

Every contract has a care location of its own and a contracted origin request; the end dates are
spread uniformly over the five years after TODAY (2026-11-23, passed to the job). Every step of
the job gets work at every size: renewals to open (2 % of them open already, with the reminders
sent so far), the countdowns of ``contracts.services.renewals.COUNTDOWNS`` (renewals due,
lapsed contracts, completion deadlines, grace periods ending and ended, breach actions overdue,
the steps' service norms), locations to list after their grace period, triage filter entries of
locations whose contract runs, and unpaid invoices (payment reminders, listings for collection).

The floor (``floor_statements``): six statements of hand-written PostgreSQL, in one
transaction, that write what the job writes on the same state — the renewal requests, the
contracts' history rows and the renewal-opened reminders (one statement, data-modifying CTEs);
every countdown's reminders (one ``INSERT … SELECT`` over a ``UNION ALL``); the triage listings
after a grace period and the delistings, each with the list's change rows; the triage verdicts
kept per address at the addresses listed or delisted (contracts merged into runs of days in
window functions, the days around them refused); the payment reminders and the listings for
collection — followed by the job's own audit-trail check (reads only, the same statements: it
writes nothing that could be done more cheaply). The floor takes no locks (neither the
renewals' ``FOR UPDATE SKIP LOCKED`` nor the triage list's and verdicts' advisory locks): it is
the least the database must do.

Checked, on both sizes: the job and the floor each run from the same state in a transaction that
is rolled back, and must write the same number of rows to each table (inserted, updated and
deleted, from ``pg_stat_xact_user_tables``) and the same rows (a digest of each table's written
rows over the columns that do not depend on new ids or on the moment: ``WRITTEN_COLUMNS``); and
the job must run as many queries on the large data set as on the small one. Measured: the
queries of one run of the job at both sizes; on the large size the median time of ``--repeat``
runs of the job and of the floor, taken in turns, each from the same state (rolled back), their
ratio (target ≤ 2) and the ratio without the audit-trail check on both sides; the time and
queries of each step of the job and of each statement of the floor; the sender's time and
queries for the reminders the job scheduled (one run per size; locmem e-mail backend, rolled
back).

Exits non-zero when the query count differs between the sizes or the job and the floor write
different rows; at full size the RESULT json says whether each target holds (``targets``; in
smoke they are reported, not enforced). ``--explain`` also prints ``EXPLAIN (ANALYZE, BUFFERS)``
of every statement of the job (each explained in a savepoint rolled back before it runs). The
last line is ``RESULT {json}``.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import sys
import time
from pathlib import Path
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import datasets, runner  # noqa: E402

BENCHMARK = "daily_job"
SMALL_SUFFIX = "_small"
TODAY = datetime.date(2026, 11, 23)
DATASET_VERSION = 4
SMOKE = {"contracts": 3_000, "small": 300, "repeat": 3}
RATIO_TARGET = 2.0
# The steps of ``daily_job``, in its order (names in operations.services).
JOB_STEPS = (
    "renewals_open_due",
    "reminders_schedule",
    "triage_filter_list_after_grace",
    "triage_filter_delist_contracted",
    "payment_reminders_schedule",
    "invoices_list_for_collection",
    "_audit_trail_verify",
)


def parse_args(argv=None):
    parser = runner.parser(__doc__, database="hap_bench_jobs", repeat=5)
    parser.add_argument("--contracts", type=int, default=100_000, help="contracts (large size)")
    parser.add_argument(
        "--small", type=int, default=1_000, help="contracts of the small data set (query count)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"small sizes: {SMOKE['contracts']:,} and {SMOKE['small']:,} contracts, "
        f"{SMOKE['repeat']} runs",
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of the job's statements (large)"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.contracts, args.small, args.repeat = (
            SMOKE["contracts"],
            SMOKE["small"],
            SMOKE["repeat"],
        )
    runner.check_at_least(parser, args, 1, "contracts", "small", "repeat")
    if args.small >= args.contracts:
        parser.error("--small must be smaller than --contracts")
    return args


def prepare(names: dict[int, str], rebuild: bool) -> dict[int, float | None]:
    """Both data sets, each built (in a copy of the migrated template) unless it is current."""
    builds = {}
    for n_contracts, name in names.items():
        with runner.use_database(name):
            builds[n_contracts] = runner.prepare_database(
                BENCHMARK,
                f"contracts={n_contracts} today={TODAY.isoformat()} v{DATASET_VERSION}",
                lambda n=n_contracts: datasets.daily_job(BENCHMARK, n, TODAY),
                rebuild=rebuild,
            )
    return builds


# --- The floor -------------------------------------------------------------------------------


def _reference(prefix: str, column: str) -> str:
    """``f"{prefix}{pk:05d}"``, as the models' ``reference``."""
    return (
        f"'{prefix}' || CASE WHEN {column} >= 100000 THEN {column}::text "
        f"ELSE lpad({column}::text, 5, '0') END"
    )


def _covered(location: str, day: str) -> str:
    """A contract covers the location on the day (as its own location or one of its others)."""
    from hap_contracting.contracts.models import Contract

    contract = Contract._meta.db_table
    others = Contract.other_locations.through._meta.db_table
    running = (
        f"k.start_date <= {day} AND k.end_date >= {day} "
        f"AND (k.terminated_on IS NULL OR k.terminated_on > {day})"
    )
    return (
        f"(EXISTS (SELECT 1 FROM {contract} k WHERE k.location_id = {location} AND {running}) "
        f"OR EXISTS (SELECT 1 FROM {contract} k JOIN {others} m ON m.contract_id = k.id "
        f"WHERE m.carelocation_id = {location} AND {running}))"
    )


def _countdown(source: str, before: str | None, after: str | None, offsets: list[int]) -> str:
    """The reminders of one countdown: ``source`` gives contract_id, admission_request_id,
    breach_action_id, step and target; the latest reminder due by today, or the one after."""
    kinds, dues, due = [], [], []
    if after:
        kinds.append(f"WHEN s.target < %(today)s THEN '{after}'")
        dues.append("WHEN s.target < %(today)s THEN s.target + 1")
        due.append("s.target < %(today)s")
    if before and offsets:
        dues += [
            f"WHEN s.target <= %(today)s::date + {offset} THEN s.target - {offset}"
            for offset in sorted(offsets)
        ]
        kinds.append(f"WHEN s.target >= %(today)s THEN '{before}'")
        due.append(f"s.target BETWEEN %(today)s AND %(today)s::date + {max(offsets)}")
    return (
        f"SELECT CASE {' '.join(kinds)} END AS kind, CASE {' '.join(dues)} END AS due_on, "
        "s.contract_id, s.admission_request_id, s.breach_action_id, s.step "
        f"FROM ({source}) s WHERE {' OR '.join(due)}"
    )


def floor_statements(now: datetime.datetime) -> tuple[list[tuple[str, str]], dict]:
    """The floor's statements, (label, SQL), and their parameters."""
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.utils.translation import gettext as _

    from hap_contracting.billing.models import Invoice, Payment, PaymentReminder
    from hap_contracting.contracts.constants import ContractEventKind, ReminderKind
    from hap_contracting.contracts.models import (
        BreachAction,
        Contract,
        ContractEvent,
        Reminder,
        renewal_horizon,
    )
    from hap_contracting.contracts.services.renewals import LAPSED_LOOKBACK_DAYS, STEPS_WARNED
    from hap_contracting.organisations.models import CareLocation, CareOrganisation
    from hap_contracting.procedure.constants import DEFAULT_NORMS, UNFINISHED_STATES
    from hap_contracting.procedure.models import (
        AdmissionRequest,
        Advice,
        ClockEvent,
        Norms,
        StepNorm,
    )
    from hap_contracting.procedure.models import TransitionLog as StateLog
    from hap_contracting.triage.models import (
        TriageAddressVerdict,
        TriageFilterEntry,
        TriageListChange,
    )

    K = ReminderKind
    table = {
        name: model._meta.db_table
        for name, model in {
            "contract": Contract,
            "organisation": CareOrganisation,
            "location": CareLocation,
            "request": AdmissionRequest,
            "event": ContractEvent,
            "reminder": Reminder,
            "breach_action": BreachAction,
            "advice": Advice,
            "clock": ClockEvent,
            "norm": StepNorm,
            "statelog": StateLog,
            "entry": TriageFilterEntry,
            "change": TriageListChange,
            "verdict": TriageAddressVerdict,
            "invoice": Invoice,
            "payment": Payment,
            "payment_reminder": PaymentReminder,
        }.items()
    }
    t = table
    days = datetime.timedelta
    defaults = ", ".join(
        f"('{step}', {amount}, '{unit}')" for step, (amount, unit) in DEFAULT_NORMS.items()
    )
    params = {
        "today": TODAY,
        "now": now,
        "horizon": renewal_horizon(TODAY),
        "unfinished": [str(state) for state in UNFINISHED_STATES],
        "warned": [str(state) for state in STEPS_WARNED],
        "notes": _("Opened by the daily job: contract %(reference)s ends on %(end)s.")
        % {"reference": "{reference}", "end": "{end}"},
        "opened": _("Renewal request %(reference)s opened.") % {"reference": "{reference}"},
        "renewal_window": TODAY + days(max(settings.RENEWAL_REMINDER_DAYS)),
        "lapsed_since": TODAY - days(LAPSED_LOOKBACK_DAYS),
        "approved_before": TODAY
        + days(max(settings.COMPLETION_REMINDER_DAYS) + 3)
        - Norms.load().longest("contracting"),
        "grace_window": TODAY + days(max(settings.GRACE_REMINDER_DAYS)),
        "zone": settings.TIME_ZONE,
        "request_type": ContentType.objects.get_for_model(AdmissionRequest).pk,
        "contract_started": _("A contract started."),
        "first_due": TODAY - days(settings.PAYMENT_REMINDER_FIRST_DAYS),
        "second_due": TODAY - days(settings.PAYMENT_REMINDER_SECOND_DAYS),
        "collection_due": TODAY - days(settings.PAYMENT_COLLECTION_DAYS),
        "first_days": settings.PAYMENT_REMINDER_FIRST_DAYS,
        "second_days": settings.PAYMENT_REMINDER_SECOND_DAYS,
    }
    renewals = f"""
        WITH due AS (
            SELECT c.id, c.location_id, c.organisation_id, c.admission_request_id, c.end_date
            FROM {t["contract"]} c
            WHERE c.terminated_on IS NULL AND c.end_date BETWEEN %(today)s AND %(horizon)s
              AND NOT EXISTS (SELECT 1 FROM {t["request"]} r WHERE r.renews_contract_id = c.id)
              AND NOT EXISTS (SELECT 1 FROM {t["contract"]} n WHERE n.previous_contract_id = c.id)
              AND NOT EXISTS (
                  SELECT 1 FROM {t["request"]} o
                  WHERE o.location_id = c.location_id AND o.state = ANY(%(unfinished)s)
              )
        ), opened AS (
            INSERT INTO {t["request"]} (
                location_id, kind, requester_name, requester_email, requester_phone,
                received_on, notes, assigned_location_manager_id, state, state_entered_at,
                outcome_recorded_at, outcome_notes, completed_on, public_token, created_by_id,
                renews_contract_id, grace_ends_on, created_at
            )
            SELECT d.location_id, 'renewal',
                   CASE WHEN p.id IS NULL THEN g.name ELSE p.requester_name END,
                   CASE WHEN p.id IS NULL THEN g.contact_email ELSE p.requester_email END,
                   coalesce(p.requester_phone, ''), %(today)s,
                   replace(replace(%(notes)s, '{{reference}}', {_reference("C-", "d.id")}),
                           '{{end}}', to_char(d.end_date, 'DD-MM-YYYY')),
                   NULL, 'received', %(now)s, NULL, '', NULL, gen_random_uuid(), NULL, d.id,
                   NULL, %(now)s
            FROM due d
            JOIN {t["organisation"]} g ON g.id = d.organisation_id
            LEFT JOIN {t["request"]} p ON p.id = d.admission_request_id
            ORDER BY d.id
            ON CONFLICT DO NOTHING
            RETURNING id, renews_contract_id
        ), events AS (
            INSERT INTO {t["event"]} (contract_id, kind, description, by_id, at)
            SELECT renews_contract_id, '{ContractEventKind.RENEWAL_OPENED}',
                   replace(%(opened)s, '{{reference}}', {_reference("A-", "id")}), NULL, %(now)s
            FROM opened ORDER BY id
        )
        INSERT INTO {t["reminder"]} (
            kind, due_on, contract_id, admission_request_id, breach_action_id, step,
            created_at, sent_at, recipients, attempts, last_error
        )
        SELECT '{K.RENEWAL_OPENED}', %(today)s, renews_contract_id, NULL, NULL, '', %(now)s,
               NULL, '', 0, ''
        FROM opened
        ON CONFLICT DO NOTHING
    """
    subject_columns = {
        "contract": "{id} AS contract_id, NULL::bigint AS admission_request_id, "
        "NULL::bigint AS breach_action_id, ''::text AS step",
        "request": "NULL::bigint AS contract_id, {id} AS admission_request_id, "
        "NULL::bigint AS breach_action_id, {step} AS step",
        "breach_action": "NULL::bigint AS contract_id, NULL::bigint AS admission_request_id, "
        "{id} AS breach_action_id, ''::text AS step",
    }

    def subject(kind, id_, step="''::text"):
        return subject_columns[kind].format(id=id_, step=step)

    def deadline(start: str) -> str:
        """The request r's step deadline from ``start``: its region's norm, else the national
        one, else the built-in default; plus the days its clock stood still or was extended."""
        return f"""(
            SELECT CASE n.unit
                       WHEN 'months' THEN ({start} + make_interval(months => n.amount))::date
                       WHEN 'weeks' THEN {start} + 7 * n.amount
                       ELSE {start} + n.amount
                   END
            FROM (
                SELECT amount, unit, 0 AS rank FROM {t["norm"]}
                WHERE region_id = l.region_id AND step = r.state
                UNION ALL
                SELECT amount, unit, 1 FROM {t["norm"]} WHERE region_id IS NULL AND step = r.state
                UNION ALL
                SELECT amount, unit, 2 FROM (VALUES {defaults}) d (step, amount, unit)
                WHERE d.step = r.state
                ORDER BY rank LIMIT 1
            ) n
        ) + coalesce((
            SELECT sum(e.days)::integer FROM {t["clock"]} e
            WHERE e.admission_request_id = r.id AND e.step = r.state
              AND e.kind IN ('resumed', 'extended')
              AND (e.step = 'quality_review' OR e.at >= r.state_entered_at)
        ), 0)"""

    approval = f"""(
        SELECT a.decided_on FROM {t["advice"]} a
        WHERE a.admission_request_id = r.id AND a.step = 'regional_council'
          AND a.outcome = 'positive'
        ORDER BY a.decided_on DESC LIMIT 1
    )"""
    quality_started = f"""(
        SELECT min(s."timestamp") FROM {t["statelog"]} s
        WHERE s.content_type_id = %(request_type)s AND s.object_id = r.id
          AND s.state = 'quality_review'
    )"""
    local = "(({}) AT TIME ZONE %(zone)s)::date"
    step_start = (
        "CASE r.state WHEN 'received' THEN r.received_on "
        "WHEN 'quality_review' THEN "
        + local.format(
            f"least(r.state_entered_at, coalesce({quality_started}, r.state_entered_at))"
        )
        + " ELSE "
        + local.format("r.state_entered_at")
        + " END"
    )
    sources = [
        (
            f"""SELECT {subject("contract", "c.id")}, c.end_date AS target
                FROM {t["contract"]} c JOIN {t["request"]} r ON r.renews_contract_id = c.id
                WHERE c.terminated_on IS NULL AND r.state = ANY(%(unfinished)s)
                  AND c.end_date <= %(renewal_window)s""",
            K.RENEWAL_DUE,
            K.RENEWAL_LAPSED,
            settings.RENEWAL_REMINDER_DAYS,
        ),
        (
            f"""SELECT {subject("contract", "c.id")}, c.end_date AS target
                FROM {t["contract"]} c
                WHERE c.terminated_on IS NULL
                  AND c.end_date < %(today)s AND c.end_date >= %(lapsed_since)s
                  AND NOT EXISTS (SELECT 1 FROM {t["request"]} r WHERE r.renews_contract_id = c.id)
                  AND NOT EXISTS (
                      SELECT 1 FROM {t["contract"]} n WHERE n.previous_contract_id = c.id
                  )
                  AND NOT EXISTS (
                      SELECT 1 FROM {t["contract"]} l
                      LEFT JOIN {Contract.other_locations.through._meta.db_table} m
                             ON m.contract_id = l.id AND m.carelocation_id = c.location_id
                      WHERE l.start_date > c.start_date
                        AND (l.location_id = c.location_id OR m.id IS NOT NULL)
                  )""",
            None,
            K.RENEWAL_LAPSED,
            [],
        ),
        (
            f"""SELECT {subject("request", "r.id")}, {deadline("x.approved_on")} AS target
                FROM {t["request"]} r
                JOIN {t["location"]} l ON l.id = r.location_id
                CROSS JOIN LATERAL (SELECT {approval} AS approved_on) x
                WHERE r.state = 'contracting' AND x.approved_on <= %(approved_before)s""",
            K.COMPLETION_DUE,
            K.COMPLETION_OVERDUE,
            settings.COMPLETION_REMINDER_DAYS,
        ),
        (
            f"""SELECT {subject("request", "r.id")}, r.grace_ends_on AS target
                FROM {t["request"]} r
                WHERE r.kind = 'regularisation' AND r.grace_ends_on <= %(grace_window)s
                  AND r.state <> 'contracted'
                  AND NOT EXISTS (
                      SELECT 1 FROM {t["reminder"]} g
                      WHERE g.admission_request_id = r.id AND g.kind = '{K.GRACE_ENDED}'
                  )
                  AND NOT (r.grace_ends_on < %(today)s
                           AND {_covered("r.location_id", "%(today)s")})""",
            K.GRACE_ENDING,
            K.GRACE_ENDED,
            settings.GRACE_REMINDER_DAYS,
        ),
        (
            f"""SELECT {subject("breach_action", "b.id")}, b.deadline AS target
                FROM {t["breach_action"]} b
                WHERE b.completed_on IS NULL AND b.deadline < %(today)s
                  AND NOT EXISTS (
                      SELECT 1 FROM {t["reminder"]} o
                      WHERE o.breach_action_id = b.id AND o.kind = '{K.BREACH_ACTION_OVERDUE}'
                  )""",
            None,
            K.BREACH_ACTION_OVERDUE,
            [],
        ),
        (
            f"""SELECT {subject("request", "r.id", "r.state")}, {deadline("x.started_on")} AS target
                FROM {t["request"]} r
                JOIN {t["location"]} l ON l.id = r.location_id
                CROSS JOIN LATERAL (SELECT {step_start} AS started_on) x
                WHERE r.state = ANY(%(warned)s)""",
            K.STEP_DUE,
            K.STEP_OVERDUE,
            settings.STEP_REMINDER_DAYS,
        ),
    ]
    countdowns = f"""
        INSERT INTO {t["reminder"]} (
            kind, due_on, contract_id, admission_request_id, breach_action_id, step,
            created_at, sent_at, recipients, attempts, last_error
        )
        SELECT kind, due_on, contract_id, admission_request_id, breach_action_id, step,
               %(now)s, NULL, '', 0, ''
        FROM ({" UNION ALL ".join(_countdown(*source) for source in sources)}) reminders
        ON CONFLICT DO NOTHING
    """
    change_columns = 'entry_id, kind, "on", reason, removed_because, postcode, house_number, '
    change_columns += "addition, recorded_at"
    listed = f"""
        WITH listed AS (
            INSERT INTO {t["entry"]} (location_id, reason, listed_on, delisted_on, delisted_because)
            SELECT DISTINCT ON (r.location_id) r.location_id, 'grace_period_ended',
                   r.grace_ends_on + 1, NULL, ''
            FROM {t["request"]} r JOIN {t["location"]} l ON l.id = r.location_id
            WHERE r.kind = 'regularisation' AND r.grace_ends_on < %(today)s
              AND l.wlz_treatment_admission AND r.state <> 'contracted'
              AND NOT {_covered("r.location_id", "%(today)s")}
              AND NOT EXISTS (
                  SELECT 1 FROM {t["entry"]} e
                  WHERE e.location_id = r.location_id AND e.reason = 'grace_period_ended'
                    AND e.listed_on > r.grace_ends_on
              )
              AND NOT EXISTS (
                  SELECT 1 FROM {t["entry"]} e
                  WHERE e.location_id = r.location_id AND e.delisted_on IS NULL
              )
            ORDER BY r.location_id, r.id
            ON CONFLICT DO NOTHING
            RETURNING id, location_id, reason, listed_on
        )
        INSERT INTO {t["change"]} ({change_columns})
        SELECT e.id, 'added', e.listed_on, e.reason, '', l.postcode, l.house_number,
               upper(trim(l.house_number_addition)), %(now)s
        FROM listed e JOIN {t["location"]} l ON l.id = e.location_id
        ORDER BY e.id
    """
    delisted = f"""
        WITH ended AS (
            UPDATE {t["entry"]} e
            SET delisted_on = %(today)s, delisted_because = %(contract_started)s
            WHERE e.delisted_on IS NULL AND {_covered("e.location_id", "%(today)s")}
            RETURNING e.id, e.location_id, e.reason, e.delisted_on, e.delisted_because
        )
        INSERT INTO {t["change"]} ({change_columns})
        SELECT e.id, 'removed', e.delisted_on, e.reason, e.delisted_because, l.postcode,
               l.house_number, upper(trim(l.house_number_addition)), %(now)s
        FROM ended e JOIN {t["location"]} l ON l.id = e.location_id
        ORDER BY e.id
    """
    # The triage verdict per address (triage.services.triage_verdicts_refresh) at the addresses
    # of the locations this run listed or delisted (their changes are recorded at now): the
    # address's first location by name, its contracts merged into runs of days ("contracted"),
    # and for a listed location with treatment admission the days around them refused.
    others = Contract.other_locations.through._meta.db_table
    verdicts = f"""
        WITH changed AS (
            SELECT DISTINCT e.location_id AS id
            FROM {t["change"]} c JOIN {t["entry"]} e ON e.id = c.entry_id
            WHERE c.recorded_at = %(now)s
        ), addresses AS (
            SELECT l.postcode, l.house_number, upper(l.house_number_addition) AS addition
            FROM {t["location"]} l JOIN changed ON changed.id = l.id
            UNION
            SELECT v.postcode, v.house_number, v.addition
            FROM {t["verdict"]} v JOIN changed ON changed.id = v.location_id
        ), placed AS (
            SELECT l.id, l.name, l.postcode, l.house_number,
                   upper(l.house_number_addition) AS addition,
                   l.wlz_treatment_admission AND EXISTS (
                       SELECT 1 FROM {t["entry"]} e
                       WHERE e.location_id = l.id AND e.delisted_on IS NULL
                   ) AS refused_otherwise
            FROM {t["location"]} l JOIN addresses a
              ON a.postcode = l.postcode AND a.house_number = l.house_number
             AND a.addition = upper(l.house_number_addition)
        ), stale AS (
            DELETE FROM {t["verdict"]} v
            WHERE v.location_id IN (SELECT id FROM placed UNION SELECT id FROM changed)
        ), chosen AS (
            SELECT DISTINCT ON (postcode, house_number, addition) *
            FROM placed ORDER BY postcode, house_number, addition, name, id
        ), covered AS (
            SELECT * FROM (
                SELECT ch.id AS location_id, k.start_date AS first,
                       CASE WHEN k.terminated_on IS NULL THEN k.end_date
                            ELSE least(k.end_date, k.terminated_on - 1) END AS last
                FROM chosen ch JOIN {t["contract"]} k ON k.location_id = ch.id
                UNION ALL
                SELECT ch.id, k.start_date,
                       CASE WHEN k.terminated_on IS NULL THEN k.end_date
                            ELSE least(k.end_date, k.terminated_on - 1) END
                FROM chosen ch JOIN {others} m ON m.carelocation_id = ch.id
                JOIN {t["contract"]} k ON k.id = m.contract_id
            ) c WHERE first <= last
        ), marked AS (
            SELECT location_id, first, last,
                   CASE WHEN first <= max(last) OVER (
                       PARTITION BY location_id ORDER BY first, last
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                   ) + 1 THEN 0 ELSE 1 END AS new_run
            FROM covered
        ), numbered AS (
            SELECT location_id, first, last,
                   sum(new_run) OVER (PARTITION BY location_id ORDER BY first, last) AS run
            FROM marked
        ), runs AS (
            SELECT location_id, min(first) AS first, max(last) AS last
            FROM numbered GROUP BY location_id, run
        ), around AS (
            SELECT location_id, first, last,
                   lag(last) OVER (PARTITION BY location_id ORDER BY first) AS before,
                   row_number() OVER (PARTITION BY location_id ORDER BY first DESC) AS from_end
            FROM runs
        ), periods AS (
            SELECT location_id, first, last, 'contracted' AS verdict FROM runs
            UNION ALL
            SELECT a.location_id, coalesce(a.before + 1, DATE '0001-01-01'), a.first - 1,
                   'no_anw_care_without_agreement'
            FROM around a JOIN chosen ch ON ch.id = a.location_id
            WHERE ch.refused_otherwise AND a.first > coalesce(a.before + 1, DATE '0001-01-01')
            UNION ALL
            SELECT a.location_id, a.last + 1, DATE '9999-12-31', 'no_anw_care_without_agreement'
            FROM around a JOIN chosen ch ON ch.id = a.location_id
            WHERE ch.refused_otherwise AND a.from_end = 1 AND a.last < DATE '9999-12-31'
            UNION ALL
            SELECT ch.id, DATE '0001-01-01', DATE '9999-12-31', 'no_anw_care_without_agreement'
            FROM chosen ch
            WHERE ch.refused_otherwise AND NOT EXISTS (
                SELECT 1 FROM runs r WHERE r.location_id = ch.id
            )
        )
        INSERT INTO {t["verdict"]}
            (postcode, house_number, addition, starts_on, ends_on, verdict, location_id)
        SELECT ch.postcode, ch.house_number, ch.addition, p.first, p.last, p.verdict, ch.id
        FROM periods p JOIN chosen ch ON ch.id = p.location_id
    """
    reminder_columns = (
        "invoice_id, kind, due_on, created_at, sent_at, recipient, attempts, last_error"
    )
    payments = f"""
        WITH unpaid AS (
            SELECT i.id, i.due_date
            FROM {t["invoice"]} i
            CROSS JOIN LATERAL (
                SELECT coalesce(sum(p.amount), 0) AS paid
                FROM {t["payment"]} p WHERE p.invoice_id = i.id
            ) p
            CROSS JOIN LATERAL (
                SELECT i.total + coalesce(sum(c.total), 0) AS owed
                FROM {t["invoice"]} c
                WHERE c.corrects_id = i.id AND c.state IN ('approved', 'sent')
            ) c
            WHERE i.kind = 'invoice' AND i.state IN ('approved', 'sent')
              AND i.due_date <= %(first_due)s AND c.owed > 0 AND p.paid < c.owed
        ), reminded AS (
            INSERT INTO {t["payment_reminder"]} ({reminder_columns})
            SELECT u.id,
                   CASE WHEN u.due_date <= %(second_due)s THEN 'second' ELSE 'first' END,
                   CASE WHEN u.due_date <= %(second_due)s THEN u.due_date + %(second_days)s
                        ELSE u.due_date + %(first_days)s END,
                   %(now)s, NULL, '', 0, ''
            FROM unpaid u
            WHERE NOT EXISTS (
                SELECT 1 FROM {t["payment_reminder"]} r
                WHERE r.invoice_id = u.id AND r.kind = 'second'
            )
            ORDER BY u.id
            ON CONFLICT DO NOTHING
        )
        INSERT INTO {t["payment_reminder"]} ({reminder_columns})
        SELECT u.id, 'collection', %(today)s, %(now)s, %(now)s, '', 0, ''
        FROM unpaid u
        WHERE u.due_date <= %(collection_due)s
          AND NOT EXISTS (
              SELECT 1 FROM {t["payment_reminder"]} r
              WHERE r.invoice_id = u.id AND r.kind = 'collection'
          )
        ORDER BY u.id
        ON CONFLICT DO NOTHING
    """
    return [
        ("renewals, their history and reminders", renewals),
        ("every countdown's reminders", countdowns),
        ("triage listings after grace, with changes", listed),
        ("triage delistings, with changes", delisted),
        ("triage verdicts at the addresses listed or delisted", verdicts),
        ("payment reminders and collection", payments),
    ], params


def run_floor(record=None) -> None:
    """The floor's statements, then the audit-trail check; ``record(label, seconds)``."""
    from django.db import connection
    from django.utils import timezone

    from hap_contracting.audit.selectors import audit_trail_check

    statements, params = floor_statements(timezone.now())
    with connection.cursor() as cursor:
        for label, sql in statements:
            started = time.perf_counter()
            cursor.execute(sql, params)
            if record:
                record(label, time.perf_counter() - started)
    started = time.perf_counter()
    audit_trail_check()
    if record:
        record("audit-trail check (the job's own)", time.perf_counter() - started)


# --- What a run writes -----------------------------------------------------------------------

# The columns of the written rows that the job and the floor must agree on: not the new rows'
# ids (sequences advance between the runs), nor the moment, nor random tokens; a reference in a
# text is masked.
WRITTEN_COLUMNS = {
    "procedure_admissionrequest": (
        "location_id, kind, requester_name, requester_email, requester_phone, received_on, "
        "notes, assigned_location_manager_id, state, state_entered_at = created_at, "
        "outcome_notes, created_by_id, renews_contract_id, grace_ends_on"
    ),
    "contracts_contractevent": (
        "contract_id, kind, by_id, regexp_replace(description, 'A-[0-9]+', 'A-?', 'g')"
    ),
    "contracts_reminder": (
        "kind, due_on, contract_id, admission_request_id, breach_action_id, step, "
        "sent_at IS NULL, recipients, attempts, last_error"
    ),
    "triage_triagefilterentry": "location_id, reason, listed_on, delisted_on, delisted_because",
    "triage_triageaddressverdict": (
        "postcode, house_number, addition, starts_on, ends_on, verdict, location_id"
    ),
    "triage_triagelistchange": (
        'kind, "on", reason, removed_because, postcode, house_number, addition'
    ),
    "billing_paymentreminder": (
        "invoice_id, kind, due_on, sent_at IS NULL, recipient, attempts, last_error"
    ),
}


def written(func) -> tuple[dict, dict]:
    """``func()`` in a transaction that is rolled back: per table the rows it inserted,
    updated and deleted (``pg_stat_xact_user_tables``), and a digest of the rows it wrote (those
    whose ``xmin`` is this transaction's or one of its savepoints')."""
    from django.db import connection

    stats = (
        "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables "
        "WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
    )
    with runner.rolled_back(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint % 4294967296")
        (xid,) = cursor.fetchone()
        cursor.execute(stats)
        before = {table: counts for table, *counts in cursor.fetchall()}
        func()
        cursor.execute(stats)
        deltas = {}
        for table, *counts in cursor.fetchall():
            delta = tuple(a - b for a, b in zip(counts, before.get(table, (0, 0, 0)), strict=True))
            if any(delta):
                deltas[table] = delta
        digests = {}
        for table in deltas:
            columns = WRITTEN_COLUMNS.get(table)
            if columns is None:
                digests[table] = "(no columns to compare: add the table to WRITTEN_COLUMNS)"
                continue
            cursor.execute(
                "SELECT md5(coalesce(string_agg(w::text, '|' ORDER BY w::text), '')) "
                f"FROM (SELECT {columns} FROM {table} "  # noqa: S608 (our own constants)
                "WHERE xmin::text::bigint >= %s) w",
                [xid],
            )
            (digests[table],) = cursor.fetchone()
    return deltas, digests


# --- The job ---------------------------------------------------------------------------------


def run_job():
    from hap_contracting.operations.services import daily_job

    return daily_job(TODAY)


def job_queries() -> tuple[object, list[str], int]:
    """One run of the job, rolled back; its report, its queries and the reminder rows it added
    (the report counts the new ones, as the job counts them)."""
    from hap_contracting.contracts.models import Reminder

    with runner.rolled_back():
        before = Reminder.objects.count()
        report, queries = runner.count_queries(run_job)
        return report, queries, Reminder.objects.count() - before


def sender_run() -> tuple[int, int, float, list[str]]:
    """Schedule with the job, then send; rolled back. Returns (reminders sent, messages,
    seconds, queries)."""
    from django.core import mail
    from django.test.utils import override_settings

    from hap_contracting.contracts.services.reminders import reminders_send_pending

    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        runner.rolled_back(),
    ):
        run_job()
        mail.outbox = []
        started = time.perf_counter()
        sent, queries = runner.count_queries(reminders_send_pending)
        elapsed = time.perf_counter() - started
        messages = len(mail.outbox)
        mail.outbox = []
    return sent, messages, elapsed, queries


class _TimedCountdown:
    """A countdown of ``COUNTDOWNS`` whose statement (``schedule``) is measured."""

    def __init__(self, countdown, record):
        self.countdown, self.record = countdown, record

    def schedule(self, today):
        name = f"  countdown {self.countdown.rows.__name__.lstrip('_')}"
        return self.record(name, self.countdown.schedule, today)


def step_breakdown() -> list[tuple[str, int, float]]:
    """Queries and milliseconds of each step of one run of the job (rolled back), and of the
    statements of each countdown inside ``reminders_schedule``."""
    from hap_contracting.contracts.services import renewals
    from hap_contracting.operations import services

    results = []

    def record(name, func, *args):
        started = time.perf_counter()
        value, queries = runner.count_queries(lambda: func(*args))
        results.append((name, len(queries), (time.perf_counter() - started) * 1000))
        return value

    def wrap(name):
        func = getattr(services, name)
        return lambda *args: record(name, func, *args)

    with contextlib.ExitStack() as stack:
        for name in JOB_STEPS:
            stack.enter_context(mock.patch.object(services, name, wrap(name)))
        countdowns = tuple(_TimedCountdown(c, record) for c in renewals.COUNTDOWNS)
        stack.enter_context(mock.patch.object(renewals, "COUNTDOWNS", countdowns))
        with runner.rolled_back():
            run_job()
    # A step is recorded when it ends, after its countdowns: list them under it.
    steps = [r for r in results if not r[0].startswith(" ")]
    nested = [r for r in results if r[0].startswith(" ")]
    ordered = []
    for step in steps:
        ordered.append(step)
        if step[0] == "reminders_schedule":
            ordered += nested
    return ordered


def floor_breakdown() -> list[tuple[str, float]]:
    results = []
    with runner.rolled_back():
        run_floor(lambda label, seconds: results.append((label, seconds * 1000)))
    return results


def explain_job() -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement of one run (rolled back), taken just before
    it runs, inside a savepoint rolled back at once, so each plan sees the state the earlier
    statements left and the statement itself then runs once."""
    from django.db import connection

    plans: list[tuple[str, list[str]]] = []
    explaining = False

    def explain_first(execute, sql, params, many, context):
        nonlocal explaining
        verb = sql.lstrip().split(None, 1)[0].upper()
        if not explaining and not many and verb in ("SELECT", "INSERT", "UPDATE", "WITH"):
            explaining = True
            try:
                with context["connection"].cursor() as cursor:
                    cursor.execute("SAVEPOINT explain_job")
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                    lines = [line for (line,) in cursor.fetchall()]
                    cursor.execute("ROLLBACK TO SAVEPOINT explain_job")
                plans.append((connection.ops.compose_sql(sql, params), lines))
            finally:
                explaining = False
        return execute(sql, params, many, context)

    with runner.rolled_back(), connection.execute_wrapper(explain_first):
        run_job()
    print("Plans of the job's statements (EXPLAIN ANALYZE just before each ran):")
    for sql, lines in plans:
        print()
        print(sql[:600] + (" …" if len(sql) > 600 else ""))
        for line in lines:
            print("    " + line)
    print()


def timed_in_turns(funcs: dict, repeat: int) -> dict[str, runner.Timing]:
    """``repeat`` timed runs of each function, taken in turns (a change of the machine's load
    touches them alike), after one untimed run of each."""
    for func in funcs.values():
        func()
    runs = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            started = time.perf_counter()
            func()
            runs[name].append(time.perf_counter() - started)
    return {name: runner.Timing(seconds) for name, seconds in runs.items()}


def measure(large: bool, repeat: int = 0, explain: bool = False) -> dict:
    """The job's queries, what the job and the floor write, the sender's queries and time; on
    the large size also the timings and the breakdowns."""
    report, queries, inserted = job_queries()  # also the warm-up
    job_written, floor_written = written(run_job), written(run_floor)
    sent, messages, sender_seconds, sender_queries = sender_run()
    result = {
        "report": report,
        "queries": queries,
        "inserted": inserted,
        "job_written": job_written,
        "floor_written": floor_written,
        "sent": sent,
        "messages": messages,
        "sender": runner.Timing([sender_seconds]),
        "sender_queries": sender_queries,
    }
    if not large:
        return result

    from hap_contracting.audit.selectors import audit_trail_check

    def rolled_back(func):
        def run():
            with runner.rolled_back():
                func()

        return run

    result.update(
        timed_in_turns(
            {
                "job": rolled_back(run_job),
                "floor": rolled_back(run_floor),
                "audit_check": audit_trail_check,
            },
            repeat,
        ),
        steps=step_breakdown(),
        floor_steps=floor_breakdown(),
    )
    if explain:
        explain_job()
    return result


def dataset_summary() -> str:
    from hap_contracting.billing.models import Invoice
    from hap_contracting.contracts.models import Contract, Reminder
    from hap_contracting.organisations.models import CareLocation
    from hap_contracting.procedure.models import AdmissionRequest

    return (
        f"{Contract.objects.count():,} contracts, {CareLocation.objects.count():,} care "
        f"locations, {AdmissionRequest.objects.count():,} admission requests, "
        f"{Reminder.objects.count():,} reminders (all sent), {Invoice.objects.count():,} invoices"
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()
    runner.setup_django(args.database_url, DJANGO_EMAIL_URL="memory://")

    from django.conf import settings

    from hap_contracting.contracts.services.reminders import BATCH_SIZE as SENDER_BATCH

    large_name = settings.DATABASES["default"]["NAME"]
    small_name = large_name + SMALL_SUFFIX
    builds = prepare(
        {args.small: small_name, args.contracts: large_name},
        args.rebuild,
    )
    with runner.use_database(small_name):
        small = measure(large=False)
        small_summary = dataset_summary()
    started = time.perf_counter()
    large = measure(large=True, repeat=args.repeat, explain=args.explain)
    measured = time.perf_counter() - started

    print()
    print(f"{runner.describe_environment()}; TODAY = {TODAY.isoformat()} (passed to the job).")
    print(f"Small ({small_name}): {small_summary}.")
    print(f"Large ({large_name}): {dataset_summary()}.")
    for size, seconds in builds.items():
        if seconds is not None:
            print(f"Built the {size:,}-contract data set in {seconds:.1f} s.")
    print()

    def sql_count(queries):
        return sum(not runner.is_savepoint(sql) for sql in queries)

    def batches(sent):
        return math.ceil(sent / SENDER_BATCH) + 1  # the last, empty batch ends the loop

    def rows_written(m):
        return sum(ins + upd + dele for ins, upd, dele in m["job_written"][0].values())

    table = [  # (key in RESULT, label, figure)
        ("job_statements", "daily job: all statements", lambda m: len(m["queries"])),
        ("job_queries", "daily job: without savepoints", lambda m: sql_count(m["queries"])),
        ("rows_written", "daily job: rows written (all tables)", rows_written),
        ("renewals_opened", "renewals opened", lambda m: m["report"].renewals_opened),
        (
            "reminders_scheduled",
            "reminders scheduled (job's report)",
            lambda m: m["report"].reminders_scheduled,
        ),
        ("reminder_rows_added", "reminder rows added", lambda m: m["inserted"]),
        ("locations_listed", "locations listed", lambda m: m["report"].locations_listed),
        ("locations_delisted", "locations delisted", lambda m: m["report"].locations_delisted),
        (
            "payment_reminders_scheduled",
            "payment reminders scheduled",
            lambda m: m["report"].payment_reminders_scheduled,
        ),
        (
            "invoices_listed_for_collection",
            "invoices listed for collection",
            lambda m: m["report"].invoices_listed_for_collection,
        ),
        ("reminders_sent", "sender: reminders sent", lambda m: m["sent"]),
        ("emails", "sender: e-mails", lambda m: m["messages"]),
        (
            "sender_batches",
            f"sender: batches of {SENDER_BATCH} (+1 empty)",
            lambda m: batches(m["sent"]),
        ),
        ("sender_statements", "sender: all statements", lambda m: len(m["sender_queries"])),
    ]
    runner.print_table(
        ("queries and rows", f"{args.small:,} contracts", f"{args.contracts:,} contracts"),
        [(label, f"{figure(small):,}", f"{figure(large):,}") for _key, label, figure in table],
    )
    print()
    print(f"Rows written on {args.contracts:,} contracts (inserted, updated, deleted):")
    job_deltas, floor_deltas = large["job_written"][0], large["floor_written"][0]
    runner.print_table(
        ("table", "daily job", "floor"),
        [
            (name, str(job_deltas.get(name, "–")), str(floor_deltas.get(name, "–")))
            for name in sorted(job_deltas.keys() | floor_deltas.keys())
        ],
    )
    print()
    job, floor, audit = large["job"], large["floor"], large["audit_check"]
    ratio = runner.ratio(job.median, floor.median)
    writes_ratio = runner.ratio(job.median - audit.median, floor.median - audit.median)
    print(f"Timings on {args.contracts:,} contracts, median of {args.repeat} runs each, in turns:")
    print(f"  daily job                          {job.median_ms:10.1f} ms")
    print(f"  floor (set-based SQL + the check)  {floor.median_ms:10.1f} ms")
    print(f"  ratio job / floor                  {ratio:10.2f} x   (target ≤ {RATIO_TARGET:g})")
    print(f"  of which the audit-trail check     {audit.median_ms:10.1f} ms   (in both)")
    print(f"  ratio without the check            {writes_ratio:10.2f} x")
    sender = large["sender"]
    per_reminder = sender.median_ms / large["sent"] if large["sent"] else 0
    print(
        f"  reminder sender (one run)          {sender.median_ms:10.1f} ms   "
        f"({large['sent']:,} reminders, {per_reminder:.2f} ms per reminder)"
    )
    print()
    print("Steps of one run of the job (large):")
    runner.print_table(
        ("step", "queries", "ms"),
        [(name, str(q), f"{ms:.1f}") for name, q, ms in large["steps"]],
    )
    print()
    print("Statements of one run of the floor (large):")
    runner.print_table(
        ("statement", "ms"), [(label, f"{ms:.1f}") for label, ms in large["floor_steps"]]
    )
    print()
    load_after = os.getloadavg()
    print(
        f"Measuring took {measured:.1f} s; load average {load_before} before, {load_after} after."
    )

    job_small, job_large = len(small["queries"]), len(large["queries"])
    failures, passed = [], []
    counts = (
        f"{job_large} queries on {args.contracts:,} contracts and {job_small} on {args.small:,}"
    )
    queries_constant = job_large == job_small
    if queries_constant:
        passed.append(f"the daily job runs {counts}.")
    else:
        failures.append(f"the daily job runs {counts}: the count depends on the contracts.")
    for size, measured_size in ((args.small, small), (args.contracts, large)):
        (job_rows, job_digests) = measured_size["job_written"]
        (floor_rows, floor_digests) = measured_size["floor_written"]
        if job_rows != floor_rows:
            failures.append(
                f"{size:,} contracts: the job and the floor write different numbers of rows "
                f"(job {job_rows}, floor {floor_rows})."
            )
        elif job_digests != floor_digests:
            differing = sorted(
                name for name in job_digests if job_digests[name] != floor_digests.get(name)
            )
            failures.append(
                f"{size:,} contracts: the job and the floor write different rows to "
                f"{', '.join(differing)}."
            )
        else:
            passed.append(
                f"{size:,} contracts: the job and the floor write the same rows "
                f"({sum(map(sum, job_rows.values())):,} in {len(job_rows)} tables)."
            )
    for size, measured_size in ((args.small, small), (args.contracts, large)):
        unwritten = sorted(WRITTEN_COLUMNS.keys() - measured_size["job_written"][0].keys())
        if unwritten:
            failures.append(
                f"{size:,} contracts: the job writes nothing to {', '.join(unwritten)}."
            )
    targets = {"ratio_le_2": ratio is not None and ratio <= RATIO_TARGET}
    targets["queries_constant"] = queries_constant
    if args.smoke:
        passed.append(f"ratio {ratio} (target ≤ {RATIO_TARGET:g}, not enforced in smoke).")
    elif targets["ratio_le_2"]:
        passed.append(f"the job takes {ratio} × the floor (target ≤ {RATIO_TARGET:g}).")
    else:
        passed.append(f"NOT MET: the job takes {ratio} × the floor (target ≤ {RATIO_TARGET:g}).")
    return runner.finish(
        BENCHMARK,
        sizes={
            "contracts": args.contracts,
            "small": args.small,
            "repeat": args.repeat,
            "smoke": args.smoke,
        },
        figures={
            **{
                key: {"small": figure(small), "large": figure(large)}
                for key, _label, figure in table
            },
            "job": job,
            "floor": floor,
            "audit_check": audit,
            "sender": sender,
            "sender_ms_per_reminder": round(per_reminder, 3),
            "rows_written": {
                name: {"job": job_deltas.get(name), "floor": floor_deltas.get(name)}
                for name in sorted(job_deltas.keys() | floor_deltas.keys())
            },
            "steps": {
                name.strip(): {"queries": q, "ms": round(ms, 3)} for name, q, ms in large["steps"]
            },
            "floor_steps": {label: round(ms, 3) for label, ms in large["floor_steps"]},
            "load_average": {"before": load_before, "after": load_after},
        },
        ratios={
            "job_over_floor": ratio,
            "job_over_floor_without_audit_check": writes_ratio,
            "job_queries_large_over_small": runner.ratio(job_large, job_small),
        },
        targets=targets,
        failures=failures,
        passed=passed,
    )


if __name__ == "__main__":
    sys.exit(main())
