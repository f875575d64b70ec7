"""Simulated users of the contracting system, per role, for ``bench/load/run.py``.

Read-only load: every user logs in once (``on_start``) with a demo login of its role (made by
``seed_demo`` of ``hap_contracting.operations``) and keeps its session, then opens the pages of
its role with a think time of one to five seconds: the procedure's (``/aanvragen/``), the
contracts' (``/contracten/``), billing's (``/facturatie/``, ``/onderzoek/``), the dashboards and,
in the admin, the requests of the ``procedure`` app (``/admin/procedure/admissionrequest/``).
Pages are grouped by ``name=`` so locust's statistics are per page, not per URL.

A request fails when its final status is not 200 or when it ends on a login page (a lost session
is a redirect to ``/login/`` that would otherwise pass as 200). The password of the demo logins
comes from ``HAP_LOAD_PASSWORD`` (``run.py --password``).

Standalone: ``locust -f bench/load/locustfile.py --host http://127.0.0.1:8000``.
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import re
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from locust.exception import StopUser
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

PASSWORD = os.environ.get("HAP_LOAD_PASSWORD", "anw-load-2026")
REGIONS = ("hardenberg", "zwolle", "flevoland")
ADMIN_REQUESTS = "/admin/procedure/admissionrequest/"

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REQUEST_LINK = re.compile(r'href="/aanvragen/(\d+)/"')
CONTRACT_LINK = re.compile(r'href="/contracten/(\d+)/"')
ADMIN_REQUEST_LINK = re.compile(r'href="/admin/procedure/admissionrequest/(\d+)/change/')
INVOICE_LINK = re.compile(r'href="/facturatie/facturen/(\d+)/"')
CITIES = ("Zwolle", "Hardenberg", "Ommen", "Kampen", "Lelystad", "Almere", "Emmeloord")


@events.quitting.add_listener
def write_final_statistics(environment, **_kwargs) -> None:
    """locust rewrites its ``--csv`` files once a second during the run and not after the last
    user stopped, so they may miss the final second. This copy (``<prefix>_final_stats.csv``,
    same columns) is written when locust quits, after the users stopped; run.py reports it."""
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if not prefix:
        return
    statistics = StatsCSV(environment, PERCENTILES_TO_REPORT)
    with open(f"{prefix}_final_stats.csv", "w", newline="") as handle:
        statistics.requests_csv(csv.writer(handle))
    with open(f"{prefix}_final_failures.csv", "w", newline="") as handle:
        statistics.failures_csv(csv.writer(handle))


class PortalUser(HttpUser):
    """Logs in once with one of ``usernames`` (round-robin over the simulated users)."""

    abstract = True
    wait_time = between(1, 5)
    usernames: tuple[str, ...] = ()

    def on_start(self) -> None:
        counter = type(self).__dict__.get("_counter")
        if counter is None:
            counter = type(self)._counter = itertools.count()
        self.username = self.usernames[next(counter) % len(self.usernames)]
        self.request_pks: list[int] = []
        self.contract_pks: list[int] = []
        self.login()

    def login(self) -> None:
        form = self.page("/login/", "/login/ (form)")
        token = CSRF_TOKEN.search(form.text or "")
        if token is None:
            raise StopUser()
        with self.client.post(
            "/login/",
            data={
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1),
                "next": "",
            },
            headers={"Referer": f"{self.host}/login/"},
            name="/login/ (POST)",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or urlsplit(response.url).path.startswith("/login/"):
                response.failure(f"login of {self.username} failed ({response.status_code})")
                raise StopUser()
            response.success()

    def page(self, url: str, name: str, *, expect: str | None = None):
        """GET ``url`` (following redirects); a failure unless it ends on a 200 page that is not
        a login page and, when given, contains ``expect``."""
        with self.client.get(url, name=name, catch_response=True) as response:
            path = urlsplit(response.url).path
            if response.status_code != 200:
                response.failure(f"status {response.status_code} for {url}")
            elif path.startswith(("/login/", "/admin/login/")) and not url.startswith("/login/"):
                response.failure(f"{url} redirected to the login page")
            elif expect is not None and expect not in response.text:
                response.failure(f"{expect!r} not on {url}")
            else:
                response.success()
        return response

    def collect(self, url: str, name: str, pattern: re.Pattern, into: list[int]) -> None:
        """Open a list page and remember the primary keys it links to (the user may see them)."""
        response = self.page(url, name)
        if response.ok:
            into.extend(int(pk) for pk in dict.fromkeys(pattern.findall(response.text)))

    # --- Pages shared by several roles ------------------------------------------------------

    def my_work(self) -> None:
        self.page("/", "/ (my work)")

    def request_detail(self) -> None:
        if self.request_pks:
            pk = random.choice(self.request_pks)
            self.page(f"/aanvragen/{pk}/", "/aanvragen/[pk]/")

    def contract_list(self) -> None:
        self.page("/contracten/", "/contracten/")

    def contract_detail(self) -> None:
        if self.contract_pks:
            pk = random.choice(self.contract_pks)
            self.page(f"/contracten/{pk}/", "/contracten/[pk]/")

    def regional_dashboard(self) -> None:
        response = self.page("/dashboard/", "/dashboard/ → /dashboard/[region]/")
        if response.ok and not response.history:
            response.failure("no redirect to the region's dashboard")


class LocationManager(PortalUser):
    weight = 40
    usernames = tuple(f"locatiemanager.{region}" for region in REGIONS)

    def on_start(self) -> None:
        super().on_start()
        self.collect(
            "/aanvragen/?state=pre_assessment",
            "/aanvragen/?state=… (filtered list)",
            REQUEST_LINK,
            self.request_pks,
        )
        self.collect("/contracten/", "/contracten/", CONTRACT_LINK, self.contract_pks)

    @task(5)
    def work(self) -> None:
        self.my_work()

    @task(3)
    def requests_in_pre_assessment(self) -> None:
        self.page("/aanvragen/?state=pre_assessment", "/aanvragen/?state=… (filtered list)")

    @task(4)
    def a_request(self) -> None:
        self.request_detail()

    @task(2)
    def checklist(self) -> None:
        if self.request_pks:
            pk = random.choice(self.request_pks)
            self.page(f"/aanvragen/{pk}/checklist/", "/aanvragen/[pk]/checklist/")

    @task(1)
    def contracts(self) -> None:
        self.contract_list()

    @task(1)
    def a_contract(self) -> None:
        self.contract_detail()

    @task(1)
    def dashboard(self) -> None:
        self.regional_dashboard()

    @task(1)
    def investigations(self) -> None:
        self.page("/onderzoek/", "/onderzoek/")


class Secretariat(PortalUser):
    weight = 20
    usernames = tuple(f"secretariaat.{region}" for region in REGIONS)

    def on_start(self) -> None:
        super().on_start()
        self.collect(
            "/aanvragen/?state=received",
            "/aanvragen/?state=… (filtered list)",
            REQUEST_LINK,
            self.request_pks,
        )
        self.collect(
            "/contracten/?status=expiring",
            "/contracten/?status=…",
            CONTRACT_LINK,
            self.contract_pks,
        )

    @task(4)
    def work(self) -> None:
        self.my_work()

    @task(3)
    def received_requests(self) -> None:
        self.page("/aanvragen/?state=received", "/aanvragen/?state=… (filtered list)")

    @task(1)
    def search_requests(self) -> None:
        self.page(f"/aanvragen/?q={random.choice(CITIES)}", "/aanvragen/?q=… (search)")

    @task(3)
    def a_request(self) -> None:
        self.request_detail()

    @task(1)
    def contracts(self) -> None:
        self.contract_list()

    @task(1)
    def expiring_contracts(self) -> None:
        self.page("/contracten/?status=expiring", "/contracten/?status=…")

    @task(2)
    def a_contract(self) -> None:
        self.contract_detail()

    @task(1)
    def dashboard(self) -> None:
        self.regional_dashboard()


class QualityTeamOrCouncil(PortalUser):
    """The quality team and the regional council work in the beheeromgeving (Django admin)."""

    weight = 20
    usernames = tuple(
        f"{prefix}.{region}" for region in REGIONS for prefix in ("kwaliteitsteam", "regioraad")
    )

    def on_start(self) -> None:
        super().on_start()
        step = "quality_review" if self.username.startswith("kwaliteitsteam") else "council_review"
        self.changelist = f"{ADMIN_REQUESTS}?state__exact={step}"
        self.collect(
            self.changelist,
            "/admin/…/admissionrequest/?state__exact=…",
            ADMIN_REQUEST_LINK,
            self.request_pks,
        )

    @task(4)
    def waiting_requests(self) -> None:
        self.page(
            self.changelist, "/admin/…/admissionrequest/?state__exact=…", expect="result_list"
        )

    @task(3)
    def a_request_in_the_admin(self) -> None:
        if self.request_pks:
            pk = random.choice(self.request_pks)
            self.page(f"{ADMIN_REQUESTS}{pk}/change/", "/admin/…/admissionrequest/[pk]/change/")

    @task(1)
    def all_requests_in_the_admin(self) -> None:
        self.page(ADMIN_REQUESTS, "/admin/…/admissionrequest/", expect="result_list")

    @task(2)
    def work(self) -> None:
        self.my_work()

    @task(1)
    def a_request(self) -> None:
        self.request_detail()

    @task(1)
    def dashboard(self) -> None:
        self.regional_dashboard()


class Finance(PortalUser):
    weight = 10
    usernames = ("financien",)

    def on_start(self) -> None:
        super().on_start()
        self.invoice_pks: list[int] = []
        self.collect(
            "/facturatie/facturen/", "/facturatie/facturen/", INVOICE_LINK, self.invoice_pks
        )
        self.collect("/contracten/", "/contracten/", CONTRACT_LINK, self.contract_pks)

    @task(4)
    def invoices(self) -> None:
        self.page("/facturatie/facturen/", "/facturatie/facturen/")

    @task(1)
    def an_invoice(self) -> None:
        if self.invoice_pks:
            pk = random.choice(self.invoice_pks)
            self.page(f"/facturatie/facturen/{pk}/", "/facturatie/facturen/[pk]/")

    @task(2)
    def contracts(self) -> None:
        self.contract_list()

    @task(1)
    def a_contract(self) -> None:
        self.contract_detail()

    @task(2)
    def dashboards(self) -> None:
        self.page("/dashboard/", "/dashboard/ (regions overview)")

    @task(1)
    def all_regions(self) -> None:
        self.page("/dashboard/alle-regios/", "/dashboard/alle-regios/")


class Administrator(PortalUser):
    weight = 10
    usernames = ("beheerder",)

    def on_start(self) -> None:
        super().on_start()
        self.collect("/aanvragen/", "/aanvragen/", REQUEST_LINK, self.request_pks)

    @task(2)
    def admin_index(self) -> None:
        self.page("/admin/", "/admin/", expect="app-procedure")

    @task(2)
    def requests_in_the_admin(self) -> None:
        self.page(ADMIN_REQUESTS, "/admin/…/admissionrequest/", expect="result_list")

    @task(1)
    def a_request_in_the_admin(self) -> None:
        if self.request_pks:
            pk = random.choice(self.request_pks)
            self.page(f"{ADMIN_REQUESTS}{pk}/change/", "/admin/…/admissionrequest/[pk]/change/")

    @task(2)
    def requests(self) -> None:
        self.page("/aanvragen/", "/aanvragen/")

    @task(1)
    def a_request(self) -> None:
        self.request_detail()

    @task(1)
    def contracts(self) -> None:
        self.contract_list()

    @task(1)
    def dashboards(self) -> None:
        self.page("/dashboard/", "/dashboard/ (regions overview)")
