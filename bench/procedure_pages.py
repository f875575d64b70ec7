"""Benchmark of the procedure's busiest pages on a production-sized data set.

Run from the repository root::

    .venv/bin/python bench/procedure_pages.py
    .venv/bin/python bench/procedure_pages.py --locations 10000 --requests 50000 --repeat 30 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench

The data set (``bench.datasets.procedure_pages``): care locations round-robin over the posts,
five roles per region, requests over every state, one of them with a genuine history made
through the services. The script requests each page through ``django.test.Client`` (no network,
no template instrumentation), with ``ROOT_URLCONF = bench.minimal_urls`` (the project's URLs plus
a minimal JSON view): "Mijn werk" (``dashboard:my_work``), the request's detail page
(``procedure:request_detail``) for the location manager and the council, and the quality team's
admin changelist (``admin:procedure_admissionrequest_changelist``). It counts the queries of one
request and reports the median time of ``--repeat`` requests, also as a ratio to the minimal
view, which goes through the same middleware. It exits non-zero when a page runs more than
``MAX_QUERIES`` queries.

The database is dropped and built again when its data set differs from the one asked for (or
with ``--rebuild``): point ``--database-url`` at a database of its own. The script refuses one
holding users it did not create. The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import datasets, runner  # noqa: E402

BENCHMARK = "procedure_pages"
MAX_QUERIES = 15
WARM_UP_RUNS = 2
DATASET_VERSION = 2
# The request whose detail page is measured; its history is made through the real services.
HISTORY_MARK = "Benchmark: request with a genuine history."


def parse_args(argv=None):
    parser = runner.parser(__doc__, database="hap_bench", repeat=30)
    parser.add_argument("--locations", type=int, default=10_000, help="care locations")
    parser.add_argument("--requests", type=int, default=50_000, help="admission requests")
    args = parser.parse_args(argv)
    runner.check_at_least(parser, args, 1, "locations", "requests", "repeat")
    return args


def measure(client, url: str, repeat: int) -> tuple[int, runner.Timing]:
    """Warm up, count the queries of one request, then time ``repeat`` more."""

    def get():
        response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"GET {url} answered {response.status_code}, not 200.")

    for _ in range(WARM_UP_RUNS):
        get()
    _, queries = runner.count_queries(get)
    return len(queries), runner.timed(get, repeat)


def main(argv=None) -> int:
    args = parse_args(argv)
    runner.setup_django(args.database_url)
    runner.prepare_database(
        BENCHMARK,
        f"locations={args.locations} requests={args.requests} v{DATASET_VERSION}",
        lambda: datasets.procedure_pages(BENCHMARK, args.locations, args.requests, HISTORY_MARK),
        rebuild=args.rebuild,
    )

    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, reverse

    from accounts.models import User
    from hap_contracting.core.roles import Role
    from hap_contracting.organisations.models import CareLocation
    from hap_contracting.procedure.models import AdmissionRequest, TransitionLog
    from hap_contracting.procedure.selectors.admission import (
        admission_requests_visible_to,
        my_work,
    )

    history_request = AdmissionRequest.objects.select_related("location__region").get(
        notes=HISTORY_MARK
    )
    region = history_request.location.region
    members = {
        role: User.objects.get(
            username__startswith=runner.user_prefix(BENCHMARK), groups__name=role, region=region
        )
        for role in (Role.LOCATION_MANAGER, Role.REGIONAL_COUNCIL, Role.QUALITY_TEAM)
    }
    with override_settings(
        ROOT_URLCONF="bench.minimal_urls",
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        DEBUG=False,
    ):
        clear_url_caches()
        clients = {}
        for role, member in members.items():
            clients[role] = Client()
            clients[role].force_login(member)
        detail_url = reverse("procedure:request_detail", args=[history_request.pk])
        pages = [
            ("minimal view", Role.LOCATION_MANAGER, reverse("bench_ok")),
            ("my work (location manager)", Role.LOCATION_MANAGER, reverse("dashboard:my_work")),
            ("request detail (location manager)", Role.LOCATION_MANAGER, detail_url),
            ("request detail (regional council)", Role.REGIONAL_COUNCIL, detail_url),
            (
                "admin changelist (quality team)",
                Role.QUALITY_TEAM,
                reverse("admin:procedure_admissionrequest_changelist"),
            ),
        ]
        results = [(label, *measure(clients[role], url, args.repeat)) for label, role, url in pages]
    clear_url_caches()

    manager, quality_team = members[Role.LOCATION_MANAGER], members[Role.QUALITY_TEAM]
    history_entries = TransitionLog.objects.filter(object_id=history_request.pk).count()
    print()
    print(
        f"Data set: {CareLocation.objects.count():,} care locations, "
        f"{AdmissionRequest.objects.count():,} admission requests, "
        f"{TransitionLog.objects.count():,} history rows; {runner.describe_environment()}."
    )
    print(
        f"Measured in region {region.name} "
        f"({CareLocation.objects.filter(region=region).count():,} locations): "
        f"{my_work(manager).count():,} requests on the location manager's work list, "
        f"{admission_requests_visible_to(quality_team).count():,} on the quality team's "
        f"changelist; request {history_request.reference} has {history_entries} history entries."
    )
    print(
        f"Each page: {WARM_UP_RUNS} warm-up requests, queries counted on one request, median of "
        f"{args.repeat} timed requests (django.test.Client, DEBUG=False)."
    )
    print()
    floor = results[0][2].median
    runner.print_table(
        ("page", "queries", "median ms", "ratio to minimal view"),
        [
            (label, str(queries), f"{timing.median_ms:.2f}", f"{timing.median / floor:.1f}x")
            for label, queries, timing in results
        ],
    )
    too_many = [(label, queries) for label, queries, _ in results if queries > MAX_QUERIES]
    return runner.finish(
        BENCHMARK,
        sizes={"locations": args.locations, "requests": args.requests, "repeat": args.repeat},
        figures={
            label: {"queries": queries, **timing.as_dict()} for label, queries, timing in results
        },
        ratios={label: runner.ratio(timing.median, floor) for label, _, timing in results[1:]},
        failures=[f"{label} runs {n} queries (at most {MAX_QUERIES})." for label, n in too_many],
        passed=[] if too_many else [f"every page runs at most {MAX_QUERIES} queries."],
    )


if __name__ == "__main__":
    sys.exit(main())
