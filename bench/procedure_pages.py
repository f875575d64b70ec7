"""Benchmark of the procedure's busiest pages on a production-sized data set.

Run from the repository root::

    .venv/bin/python bench/procedure_pages.py
    .venv/bin/python bench/procedure_pages.py --locations 10000 --requests 50000 --repeat 30 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench

The script creates the database if needed, migrates it and (re)builds the data set whenever its
size differs from the one asked for. It then requests each page through ``django.test.Client``
(no network, no template instrumentation), counts the queries of one request and reports the
median time of ``--repeat`` requests, also as a ratio to a minimal Django view that only returns
"ok" through the same middleware. It exits non-zero when a page runs more than
``MAX_QUERIES`` queries.

The database is emptied (``flush``) before a rebuild: point ``--database-url`` at a database of
its own. The script refuses to empty a database holding users it did not create.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
import types
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.support import ensure_database, migrate, refuse_foreign_database  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hap_bench"
MAX_QUERIES = 15
WARM_UP_RUNS = 2
BATCH_SIZE = 2000
USERNAME_PREFIX = "bench."
# The request whose detail page is measured; its history is made through the real services.
HISTORY_MARK = "Benchmark: request with a genuine history."


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locations", type=int, default=10_000, help="care locations")
    parser.add_argument("--requests", type=int, default=50_000, help="admission requests")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"PostgreSQL database of the benchmark (default {DEFAULT_DATABASE_URL})",
    )
    args = parser.parse_args(argv)
    for name in ("locations", "requests", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def configure_django(database_url: str) -> None:
    """Environment first, then django.setup(): the settings read it once, at import."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_DEBUG"] = "false"
    # The history request goes through the services, which enqueue a notification task.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

    import django

    django.setup()


# --- Database --------------------------------------------------------------------------------


# --- Data set --------------------------------------------------------------------------------


def bench_roles():
    from hap_contracting.core.roles import Role

    return (
        Role.SECRETARIAT,
        Role.LOCATION_MANAGER,
        Role.QUALITY_TEAM,
        Role.REGIONAL_COUNCIL,
        Role.PROGRAMME_MANAGER,
    )


def dataset_is_current(n_locations: int, n_requests: int) -> bool:
    from accounts.models import User
    from hap_contracting.organisations.models import CareLocation
    from hap_contracting.procedure.models import AdmissionRequest

    return (
        CareLocation.objects.count() == n_locations
        and AdmissionRequest.objects.count() == n_requests
        and User.objects.filter(username__startswith=USERNAME_PREFIX).count()
        == 3 * len(bench_roles())
        and AdmissionRequest.objects.filter(notes=HISTORY_MARK).count() == 1
    )


def empty_database() -> None:
    """``flush`` truncates every table (TRUNCATE does not fire the append-only row triggers)."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    # flush also empties what data migrations shipped: put the checklist version back.
    from importlib import import_module

    from django.apps import apps

    shipped = import_module("checklist.migrations.0002_checklist_version_1_0")
    shipped.create_version_1_0(apps, None)


def _postcode_letters() -> list[str]:
    letters = "ABCDEFGHJKLMNPRSTVWXZ"
    return [a + b for a in letters for b in letters if a + b not in {"SA", "SD", "SS"}]


def build_dataset(n_locations: int, n_requests: int, seed: int = 20260401) -> None:
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from hap_contracting.core.roles import Role
    from hap_contracting.organisations.constants import OrganisationType
    from hap_contracting.organisations.models import (
        CareLocation,
        CareOrganisation,
        HapPost,
        Region,
        TargetGroup,
    )
    from hap_contracting.procedure.constants import TERMINAL_STATES, RequestKind, RequestState
    from hap_contracting.procedure.models import AdmissionRequest

    S = RequestState
    rng = random.Random(seed)
    started = time.perf_counter()
    print(f"Building the data set: {n_locations:,} locations, {n_requests:,} requests …")

    with transaction.atomic():
        # Regions, posts, postcode ranges and target groups: the reference data of production.
        call_command("loaddata", "regions", verbosity=0)
        regions = list(Region.objects.order_by("pk"))
        posts = list(HapPost.objects.prefetch_related("postcode_ranges").order_by("pk"))
        target_groups = list(TargetGroup.objects.order_by("pk"))

        # One user per role per region; roles are auth groups named after Role.
        groups = {role: Group.objects.get_or_create(name=role)[0] for role in bench_roles()}
        users: dict[tuple[str, int], User] = {}
        for region in regions:
            for role in bench_roles():
                user = User(
                    username=f"{USERNAME_PREFIX}{role}.{region.slug}",
                    first_name=str(Role(role).label),
                    last_name=region.name,
                    email=f"{role}.{region.slug}@bench.invalid",
                    region=region,
                    is_staff=role in (Role.QUALITY_TEAM, Role.REGIONAL_COUNCIL),
                )
                user.set_unusable_password()
                user.save()
                user.groups.add(groups[role])
                users[(role, region.pk)] = user

        organisation_types = list(OrganisationType.values)
        organisations = CareOrganisation.objects.bulk_create(
            [
                CareOrganisation(
                    name=f"Zorgorganisatie {i + 1:04d}",
                    kvk_number=f"{20_000_000 + i}",
                    agb_code=f"{73_000_000 + i}",
                    organisation_type=organisation_types[i % len(organisation_types)],
                    contact_email=f"info{i + 1}@zorg.invalid",
                )
                for i in range(max(1, n_locations // 25))
            ],
            batch_size=BATCH_SIZE,
        )

        # Locations round-robin over the posts, each with a postcode in its post's ranges; the
        # house number alone keeps (postcode, house_number, addition) unique.
        letters = _postcode_letters()
        streets = ("Hofstraat", "Kerkweg", "Molenweg", "Dorpsstraat", "Stationsplein", "Brink")
        locations = []
        for i in range(n_locations):
            post = posts[i % len(posts)]
            postcode_range = rng.choice(list(post.postcode_ranges.all()))
            treatment = rng.random() < 0.4
            locations.append(
                CareLocation(
                    organisation=None if i % 50 == 49 else organisations[i % len(organisations)],
                    name=f"Woonzorglocatie {i + 1:05d}",
                    street=rng.choice(streets),
                    house_number=i + 1,
                    house_number_addition="A" if i % 7 == 0 else "",
                    postcode=f"{rng.randint(postcode_range.first, postcode_range.last)} "
                    f"{rng.choice(letters)}",
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
        CareLocation.objects.bulk_create(locations, batch_size=BATCH_SIZE)
        through = CareLocation.target_groups.through
        through.objects.bulk_create(
            [
                through(carelocation_id=location.pk, targetgroup_id=group.pk)
                for location in locations
                for group in rng.sample(target_groups, rng.randint(1, 2))
            ],
            batch_size=BATCH_SIZE * 5,
        )

        # Requests: request k is for location k % n_locations, in "round" k // n_locations.
        # A location's latest request may be in any state; its earlier ones are finished, so
        # (as the register service demands) no location has two open requests.
        located = min(n_locations, n_requests)
        region_of = [locations[j].region_id for j in range(located)]
        history_region_id = Counter(region_of).most_common(1)[0][0]
        first_location = region_of.index(history_region_id)
        history_k = first_location + n_locations * (
            (n_requests - 1 - first_location) // n_locations
        )

        all_states = list(S.values)
        kinds = list(RequestKind.values)
        rounds = -(-n_requests // n_locations)
        now = timezone.now()
        batch: list[AdmissionRequest] = []
        for k in range(n_requests):
            location = locations[k % n_locations]
            round_ = k // n_locations
            latest = k + n_locations >= n_requests
            if k == history_k:
                state = S.RECEIVED
            elif latest:
                state = rng.choice(all_states)
            else:
                state = rng.choices(TERMINAL_STATES, weights=(6, 3, 1))[0]
            age = datetime.timedelta(
                days=(rounds - 1 - round_) * 365 + rng.randint(1, 120 if latest else 300),
                minutes=rng.randint(0, 24 * 60),
            )
            received_at = now - age
            if state == S.RECEIVED:
                entered = received_at
            else:
                entered = received_at + min(age, datetime.timedelta(days=180)) * rng.random()
            outcome_recorded_at = completed_on = None
            if state == S.CONTRACTING and rng.random() < 0.5:
                outcome_recorded_at = entered + (now - entered) * rng.random()
            elif state == S.CONTRACTED:
                outcome_recorded_at = entered - datetime.timedelta(days=rng.randint(1, 30))
                completed_on = timezone.localdate(entered)
            batch.append(
                AdmissionRequest(
                    location=location,
                    kind=kinds[k % len(kinds)],
                    requester_name=f"Aanvrager {k + 1}",
                    requester_email=f"aanvrager{k + 1}@zorg.invalid",
                    requester_phone="038 123 45 67",
                    received_on=timezone.localdate(received_at),
                    notes=HISTORY_MARK if k == history_k else "",
                    # The FSM field is protected, but may be given to the constructor.
                    state=state,
                    state_entered_at=entered,
                    assigned_location_manager=None
                    if state == S.RECEIVED
                    else users[(Role.LOCATION_MANAGER, location.region_id)],
                    outcome_recorded_at=outcome_recorded_at,
                    outcome_notes="Uitkomst verwerkt." if outcome_recorded_at else "",
                    completed_on=completed_on,
                    created_by=users[(Role.SECRETARIAT, location.region_id)],
                )
            )
            if len(batch) >= 5 * BATCH_SIZE:
                AdmissionRequest.objects.bulk_create(batch, batch_size=BATCH_SIZE)
                batch = []
        AdmissionRequest.objects.bulk_create(batch, batch_size=BATCH_SIZE)

    walk_history_request(users, history_region_id)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Data set built in {time.perf_counter() - started:.1f} s.")


def walk_history_request(users, region_id: int) -> None:
    """Forward the marked request and give two advices through the services: genuine history."""
    from django.test.utils import override_settings
    from hap_contracting.services import admission as admission_services

    from checklist.demo import complete_answers
    from checklist.services import assessment_start, assessment_submit
    from hap_contracting.core.roles import Role
    from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep
    from hap_contracting.procedure.models import AdmissionRequest

    request = AdmissionRequest.objects.select_related("location__region").get(notes=HISTORY_MARK)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        admission_services.admission_request_forward(
            admission_request=request,
            by=users[(Role.SECRETARIAT, region_id)],
            location_manager=users[(Role.LOCATION_MANAGER, region_id)],
        )
        manager = users[(Role.LOCATION_MANAGER, region_id)]
        assessment = assessment_start(admission_request=request, by=manager)
        assessment_submit(
            assessment=assessment, by=manager, answers=complete_answers(assessment.template)
        )
        admission_services.admission_request_advise(
            admission_request=request,
            by=users[(Role.LOCATION_MANAGER, region_id)],
            step=AdviceStep.LOCATION_MANAGER,
            outcome=AdviceOutcome.POSITIVE,
            motivation="Voorwacht en achterwacht op orde; SO 24/7 bereikbaar.",
        )
        admission_services.admission_request_advise(
            admission_request=request,
            by=users[(Role.QUALITY_TEAM, region_id)],
            step=AdviceStep.QUALITY_TEAM,
            outcome=AdviceOutcome.POSITIVE,
            motivation="Checklist volledig; positief advies aan de regioraad.",
        )


# --- Measuring -------------------------------------------------------------------------------


def minimal_view(request):
    from django.http import HttpResponse

    return HttpResponse("ok")


def bench_urlconf() -> str:
    """The project's URLs plus the minimal view, as a module made at runtime."""
    from django.urls import path

    import config.urls

    module = types.ModuleType("bench_procedure_pages_urls")
    module.urlpatterns = [
        *config.urls.urlpatterns,
        path("bench/minimal/", minimal_view, name="bench_minimal"),
    ]
    sys.modules[module.__name__] = module
    return module.__name__


def measure(client, url: str, repeat: int) -> tuple[int, float]:
    """Warm up, count the queries of one request, then the median of ``repeat`` timed ones."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"GET {url} answered {response.status_code}, not 200.")

    for _ in range(WARM_UP_RUNS):
        get()
    with CaptureQueriesContext(connection) as captured:
        get()
    # Read now: the log is cleared again at the start of every later request.
    queries = len(captured.captured_queries)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        get()
        timings.append(time.perf_counter() - started)
    return queries, statistics.median(timings) * 1000


def run_benchmark(repeat: int) -> bool:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, reverse
    from hap_contracting.selectors.admission import admission_requests_visible_to, my_work

    from accounts.models import User
    from hap_contracting.core.roles import Role
    from hap_contracting.organisations.models import CareLocation
    from hap_contracting.procedure.models import AdmissionRequest, TransitionLog

    history_request = AdmissionRequest.objects.select_related("location").get(notes=HISTORY_MARK)
    region_id = history_request.location.region_id

    def user(role):
        return User.objects.get(
            username__startswith=USERNAME_PREFIX, groups__name=role, region_id=region_id
        )

    location_manager = user(Role.LOCATION_MANAGER)
    council = user(Role.REGIONAL_COUNCIL)
    quality_team = user(Role.QUALITY_TEAM)

    with override_settings(
        ROOT_URLCONF=bench_urlconf(),
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        DEBUG=False,
    ):
        clear_url_caches()
        clients = {}
        for member in (location_manager, council, quality_team):
            clients[member.pk] = Client()
            clients[member.pk].force_login(member)

        detail_url = reverse("procedure:request_detail", args=[history_request.pk])
        pages = [
            ("minimal view", location_manager, reverse("bench_minimal")),
            ("my work (location manager)", location_manager, reverse("dashboard:my_work")),
            ("request detail (location manager)", location_manager, detail_url),
            ("request detail (regional council)", council, detail_url),
            (
                "admin changelist (quality team)",
                quality_team,
                reverse("admin:procedure_admissionrequest_changelist"),
            ),
        ]
        results = []
        for label, member, url in pages:
            queries, median_ms = measure(clients[member.pk], url, repeat)
            results.append((label, queries, median_ms))

    db = settings.DATABASES["default"]
    region = history_request.location.region
    print()
    print(
        f"Data set ({db['NAME']} on {db.get('HOST') or 'localhost'}): "
        f"{CareLocation.objects.count():,} care locations, "
        f"{AdmissionRequest.objects.count():,} admission requests, "
        f"{TransitionLog.objects.count():,} history rows."
    )
    print(
        f"Measured in region {region.name} "
        f"({CareLocation.objects.filter(region=region).count():,} locations): "
        f"{my_work(location_manager).count():,} requests on the location manager's work list, "
        f"{admission_requests_visible_to(quality_team).count():,} on the quality team's "
        f"changelist; request {history_request.reference} has "
        f"{TransitionLog.objects.filter(object_id=history_request.pk).count()} history entries."
    )
    print(
        f"Each page: {WARM_UP_RUNS} warm-up requests, queries counted on one request, median of "
        f"{repeat} timed requests (django.test.Client, DEBUG={settings.DEBUG}, "
        f"PostgreSQL {connection.pg_version // 10000})."
    )
    print()
    baseline = results[0][2]
    headers = ("page", "queries", "median ms", "ratio to minimal view")
    rows = [
        (label, str(queries), f"{median_ms:.2f}", f"{median_ms / baseline:.1f}x")
        for label, queries, median_ms in results
    ]
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print(" | ".join(cells))
    print()

    too_many = [(label, queries) for label, queries, _ in results if queries > MAX_QUERIES]
    for label, queries in too_many:
        print(f"FAIL: {label} runs {queries} queries (at most {MAX_QUERIES} allowed).")
    if not too_many:
        print(f"OK: every page runs at most {MAX_QUERIES} queries.")
    return not too_many


def main(argv=None) -> int:
    args = parse_args(argv)
    configure_django(args.database_url)
    ensure_database()
    refuse_foreign_database({"username__startswith": USERNAME_PREFIX})
    migrate()
    if dataset_is_current(args.locations, args.requests):
        print(
            f"Data set of {args.locations:,} locations and {args.requests:,} requests is current."
        )
    else:
        empty_database()
        build_dataset(args.locations, args.requests)
    return 0 if run_benchmark(args.repeat) else 1


if __name__ == "__main__":
    sys.exit(main())
