"""Simulated users of the contracting system, per role, for ``bench/load/run.py``.

Every simulated user logs in once (``on_start``): the login form, username and password, and
for the roles with a second factor in production (the council, finance, administrators) the
code of its authenticator (``logins.totp_code``); then, as a browser with an empty cache, it
fetches the CSS and JavaScript of the page it lands on (WhiteNoise serves them), opens a list
or two to learn which requests, contracts and invoices it may see, and browses the pages of its
role with a think time of one to five seconds. About one request in a hundred is a download
(a list exported to CSV or Excel). Beside the users, one ``FloorProbe`` asks about once a
second for the pages' floor (``base.html`` for a logged-in user and nothing else) or the
cheapest 50-row list, to show what those take under the same load.

The users speak to gunicorn as the production reverse proxy does after ending TLS: with
``X-Forwarded-Proto: https`` and ``X-Forwarded-For``, and sending back the cookies the
production settings mark Secure (``BehindTheProxy``).

Read-only load: nobody registers, advises, uploads or approves anything; the pages that write
are measured by the tests and ``bench/procedure_pages.py``, and writes would change the data set
between runs. A request fails when its final status is not 200, when it ends on a login page (a
lost session is a redirect to ``/login/`` that would otherwise pass as 200), or when the page
lacks what it must show. Pages are grouped by ``name=`` so the statistics are per page.

Beside locust's CSV files (whose percentiles locust rounds: to 10 ms above 100 ms), every
response time is kept and written when locust quits, with each page's kind (``login``,
``page``, ``static``, ``download``, ``floor``) and the moment each answer came, to
``<csv prefix>_response_times.json`` with the moments the last user was started and the last
login ended (``phases``); run.py takes the percentiles from those.

Standalone: ``locust -f bench/load/locustfile.py --host http://127.0.0.1:8000``; the password of
the logins comes from ``HAP_LOAD_PASSWORD`` (``run.py --password``); ``HAP_LOAD_TOUR=1``
(``run.py --smoke``) makes every user open each page of its role once right after logging in.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import gevent
from locust import HttpUser, between, events, task
from locust.exception import StopUser
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV
from requests.cookies import RequestsCookieJar
from urllib3.util.retry import Retry

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.load import logins  # noqa: E402

PASSWORD = os.environ.get("HAP_LOAD_PASSWORD", "anw-load-2026")
# run.py --smoke: each user opens every page of its role once after logging in; one user per
# role (the classes' weights made equal), so 7 users see every page.
TOUR = os.environ.get("HAP_LOAD_TOUR") == "1"
TOURS = {"finished": 0}
REGIONS = logins.REGIONS
ADMIN_REQUESTS = "/admin/procedure/admissionrequest/"
TWO_FACTOR = "/tweestapsverificatie/"
# The floor probe's page (``FloorProbe``), by this name in the statistics.
FLOOR_PAGE = "/bench/base/ (the floor, under the same load)"
CHEAPEST_LIST_PAGE = "/bench/list-cheapest/ (the cheapest 50-row list, under the same load)"
# On every admin changelist, with rows or without.
CHANGELIST = 'id="changelist"'

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REQUEST_LINK = re.compile(r'href="/aanvragen/(\d+)/"')
CONTRACT_LINK = re.compile(r'href="/contracten/(\d+)/"')
ADMIN_REQUEST_LINK = re.compile(r'href="/admin/procedure/admissionrequest/(\d+)/change/')
INVOICE_LINK = re.compile(r'href="/facturatie/facturen/(\d+)/"')
INVESTIGATION_LINK = re.compile(r'href="/onderzoek/(\d+)/"')
STATIC_FILE = re.compile(r'(?:href|src)="(/static/[^"]+)"')
CITIES = ("Zwolle", "Hardenberg", "Ommen", "Kampen", "Lelystad", "Almere", "Emmeloord")

# Every response time by page name, and each page's kind, for run.py.
RESPONSE_TIMES: dict[str, list[float]] = defaultdict(list)
KINDS: dict[str, str] = {}
# When each of those was answered (epoch seconds), when the last user had been started and
# when the last login ended.
ANSWERED_AT: dict[str, list[float]] = defaultdict(list)
PHASES: dict[str, float] = {}


@events.request.add_listener
def keep_response_time(name, response_time, **_kwargs) -> None:
    RESPONSE_TIMES[name].append(response_time)
    ANSWERED_AT[name].append(time.time())


@events.spawning_complete.add_listener
def note_spawning_complete(user_count, **_kwargs) -> None:
    PHASES.setdefault("spawning_complete", time.time())


@events.quitting.add_listener
def write_final_statistics(environment, **_kwargs) -> None:
    """locust rewrites its ``--csv`` files once a second during the run and not after the last
    user stopped, so they may miss the final second. This copy (``<prefix>_final_stats.csv``,
    same columns) is written when locust quits, after the users stopped, with every response
    time beside it; run.py reports those."""
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if not prefix:
        return
    statistics = StatsCSV(environment, PERCENTILES_TO_REPORT)
    with open(f"{prefix}_final_stats.csv", "w", newline="") as handle:
        statistics.requests_csv(csv.writer(handle))
    with open(f"{prefix}_final_failures.csv", "w", newline="") as handle:
        statistics.failures_csv(csv.writer(handle))
    with open(f"{prefix}_response_times.json", "w") as handle:
        json.dump(
            {
                "pages": {
                    name: {
                        "kind": KINDS.get(name, "page"),
                        "ms": times,
                        "at": ANSWERED_AT[name],
                    }
                    for name, times in sorted(RESPONSE_TIMES.items())
                },
                "phases": PHASES,
                "tours_finished": TOURS["finished"] if TOUR else None,
            },
            handle,
        )


class BehindTheProxy(RequestsCookieJar):
    """The browser sends its Secure cookies (session, CSRF) to the proxy over HTTPS; the proxy
    passes them on to gunicorn over plain HTTP, as locust does here: kept as not Secure, so
    that ``requests`` sends them back over ``http://``."""

    def set_cookie(self, cookie, *args, **kwargs):
        cookie.secure = False
        return super().set_cookie(cookie, *args, **kwargs)


CLOSED_CONNECTION_RETRY = Retry(
    total=1, connect=1, read=1, status=0, redirect=0, other=0, allowed_methods={"GET"}
)


class PortalUser(HttpUser):
    """Logs in once with one of ``usernames`` (round-robin over the simulated users of the
    class); ``second_factor``: the login gives a TOTP code after the password."""

    abstract = True
    wait_time = between(1, 5)
    usernames: tuple[str, ...] = ()
    second_factor = False
    _addresses = itertools.count(1)

    def on_start(self) -> None:
        counter = type(self).__dict__.get("_counter")
        if counter is None:
            counter = type(self)._counter = itertools.count()
        self.username = self.usernames[next(counter) % len(self.usernames)]
        self.origin = "https://" + urlsplit(self.host).netloc
        address = next(PortalUser._addresses)
        self.client.headers.update(
            {
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": f"198.51.{address // 250}.{address % 250 + 1}",
            }
        )
        self.client.cookies = BehindTheProxy()
        # As the proxy in front does (nginx sends an idempotent request again when the upstream
        # closed the kept-alive connection before answering): gunicorn closes a connection
        # after its keep-alive time (5 s), and a user whose think time (1 to 5 s) ends at that
        # moment sends into a closing connection. Such a GET is sent once more, on a new
        # connection; a request that got any answer is never repeated.
        self.client.adapters["http://"].max_retries = CLOSED_CONNECTION_RETRY
        self.request_pks: list[int] = []
        self.contract_pks: list[int] = []
        landed = self.login()
        PHASES["last_login"] = max(PHASES.get("last_login", 0.0), time.time())
        self.static_files(landed)
        self.learn()
        if TOUR:
            self.tour()

    def learn(self) -> None:
        """Open the lists that say which requests, contracts, … this user may open."""

    def tour(self) -> None:
        """Every page of the role once, in the order of its tasks, so that the smoke run covers
        every page whatever the random choice of the tasks; locust stops once every user has
        finished its tour (``--run-time`` is then only the limit)."""
        for method in dict.fromkeys(self.tasks):
            method(self)
        TOURS["finished"] += 1
        runner = self.environment.runner
        if TOURS["finished"] >= runner.target_user_count:
            gevent.spawn_later(0.1, runner.quit)

    # --- Logging in ---------------------------------------------------------------------------

    def post_form(self, url: str, form_page, data: dict, name: str):
        """POST ``data`` with the CSRF token of ``form_page``, as the browser would (Origin and
        Referer of the HTTPS site)."""
        token = CSRF_TOKEN.search(form_page.text or "")
        if token is None:
            form_page.failure(f"no CSRF token on {form_page.url}")
            raise StopUser()
        KINDS[name] = "login"
        return self.client.post(
            url,
            data={**data, "csrfmiddlewaretoken": token.group(1)},
            headers={"Origin": self.origin, "Referer": self.origin + urlsplit(form_page.url).path},
            name=name,
            catch_response=True,
        )

    def login(self):
        """Password, then (for the roles that must) the authenticator's code; the response of
        the page landed on, my work."""
        form = self.page("/login/", "/login/ (form)", kind="login")
        data = {"username": self.username, "password": PASSWORD, "next": ""}
        with self.post_form("/login/", form, data, "/login/ (POST)") as response:
            path = urlsplit(response.url).path
            expected = TWO_FACTOR if self.second_factor else "/"
            if response.status_code != 200 or path != expected:
                response.failure(
                    f"login of {self.username} ended on {path} ({response.status_code})"
                )
                raise StopUser()
            response.success()
        if not self.second_factor:
            return response
        data = {"token": logins.totp_code(self.username), "next": "/"}
        with self.post_form(response.url, response, data, f"{TWO_FACTOR} (POST)") as verified:
            path = urlsplit(verified.url).path
            if verified.status_code != 200 or path != "/":
                verified.failure(f"code of {self.username} refused: ended on {path}")
                raise StopUser()
            verified.success()
        return verified

    def static_files(self, landed) -> None:
        """The page's CSS and JavaScript, once: the browser caches them after the first page
        (WhiteNoise sends far-future cache headers for the hashed names)."""
        for path in dict.fromkeys(STATIC_FILE.findall(landed.text or "")):
            self.page(path, "/static/… (first page)", kind="static")

    # --- Opening pages ------------------------------------------------------------------------

    def page(self, url: str, name: str, *, expect: str | None = None, kind: str = "page"):
        """GET ``url`` (following redirects); a failure unless it ends on a 200 page that is not
        a login page and, when given, contains ``expect``."""
        KINDS[name] = kind
        with self.client.get(url, name=name, catch_response=True) as response:
            path = urlsplit(response.url).path
            if response.status_code != 200:
                response.failure(f"status {response.status_code} for {url}")
            elif path.startswith(("/login/", "/admin/login/", TWO_FACTOR)) and kind != "login":
                response.failure(f"{url} redirected to {path}")
            elif expect is not None and expect not in response.text:
                response.failure(f"{expect!r} not on {url}")
            else:
                response.success()
        return response

    def download(self, url: str, name: str, content_type: str) -> None:
        KINDS[name] = "download"
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code} for {url}")
            elif not response.headers.get("Content-Type", "").startswith(content_type):
                response.failure(f"{url} is {response.headers.get('Content-Type')}")
            else:
                response.success()

    def collect(self, url: str, name: str, pattern: re.Pattern, into: list[int], **kwargs):
        """Open a list page and remember the primary keys it links to (the user may see them)."""
        response = self.page(url, name, **kwargs)
        if response.ok:
            found = dict.fromkeys(int(pk) for pk in pattern.findall(response.text))
            into.extend(pk for pk in found if pk not in into)
        return response

    # --- Pages shared by several roles --------------------------------------------------------

    def my_work(self) -> None:
        self.page("/", "/ (my work)")

    def request_list(self) -> None:
        self.page("/aanvragen/", "/aanvragen/")

    def request_detail(self) -> None:
        if self.request_pks:
            pk = random.choice(self.request_pks)
            self.page(f"/aanvragen/{pk}/", "/aanvragen/[pk]/")

    def admin_request_change(self) -> None:
        if self.request_pks:
            pk = random.choice(self.request_pks)
            self.page(
                f"{ADMIN_REQUESTS}{pk}/change/",
                "/admin/…/admissionrequest/[pk]/change/",
                expect="admissionrequest_form",
            )

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

    def regions_overview(self) -> None:
        self.page("/dashboard/", "/dashboard/ (regions overview)")


# Task weights: each class's pages add up to about 100, its downloads to one or two, so that a
# simulated user downloads a list about once in its first hundred pages (every five minutes).


class LocationManager(PortalUser):
    """The pre-assessment of the requests forwarded to them, and their posts' investigations."""

    weight = 30
    usernames = tuple(f"locatiemanager.{region}" for region in REGIONS)

    def learn(self) -> None:
        self.investigation_pks: list[int] = []
        self.collect(
            "/aanvragen/?state=pre_assessment",
            "/aanvragen/?state=… (filtered list)",
            REQUEST_LINK,
            self.request_pks,
        )
        self.collect("/aanvragen/", "/aanvragen/", REQUEST_LINK, self.request_pks)
        self.collect("/contracten/", "/contracten/", CONTRACT_LINK, self.contract_pks)
        self.collect("/onderzoek/", "/onderzoek/", INVESTIGATION_LINK, self.investigation_pks)

    @task(24)
    def work(self) -> None:
        self.my_work()

    @task(14)
    def requests_in_pre_assessment(self) -> None:
        self.page("/aanvragen/?state=pre_assessment", "/aanvragen/?state=… (filtered list)")

    @task(6)
    def requests(self) -> None:
        self.request_list()

    @task(20)
    def a_request(self) -> None:
        self.request_detail()

    @task(10)
    def checklist(self) -> None:
        if self.request_pks:
            pk = random.choice(self.request_pks)
            self.page(f"/aanvragen/{pk}/checklist/", "/aanvragen/[pk]/checklist/")

    @task(6)
    def contracts(self) -> None:
        self.contract_list()

    @task(6)
    def a_contract(self) -> None:
        self.contract_detail()

    @task(6)
    def dashboard(self) -> None:
        self.regional_dashboard()

    @task(4)
    def investigations(self) -> None:
        self.page("/onderzoek/", "/onderzoek/")

    @task(4)
    def an_investigation(self) -> None:
        if self.investigation_pks:
            pk = random.choice(self.investigation_pks)
            self.page(f"/onderzoek/{pk}/", "/onderzoek/[pk]/")

    @task(1)
    def export_requests(self) -> None:
        self.download("/aanvragen/lijst.csv", "/aanvragen/lijst.csv (download)", "text/csv")


class ProgrammeManager(PortalUser):
    """Helps the location managers investigate; follows the pre-assessments of the region."""

    weight = 5
    usernames = tuple(f"programmamanager.{region}" for region in REGIONS)

    def learn(self) -> None:
        self.investigation_pks: list[int] = []
        self.collect("/aanvragen/", "/aanvragen/", REQUEST_LINK, self.request_pks)
        self.collect("/onderzoek/", "/onderzoek/", INVESTIGATION_LINK, self.investigation_pks)

    @task(24)
    def work(self) -> None:
        self.my_work()

    @task(14)
    def requests(self) -> None:
        self.request_list()

    @task(14)
    def requests_in_pre_assessment(self) -> None:
        self.page("/aanvragen/?state=pre_assessment", "/aanvragen/?state=… (filtered list)")

    @task(16)
    def a_request(self) -> None:
        self.request_detail()

    @task(14)
    def investigations(self) -> None:
        self.page("/onderzoek/", "/onderzoek/")

    @task(10)
    def an_investigation(self) -> None:
        if self.investigation_pks:
            pk = random.choice(self.investigation_pks)
            self.page(f"/onderzoek/{pk}/", "/onderzoek/[pk]/")

    @task(8)
    def dashboard(self) -> None:
        self.regional_dashboard()

    @task(1)
    def export_investigations(self) -> None:
        self.download("/onderzoek/lijst.csv", "/onderzoek/lijst.csv (download)", "text/csv")


class Secretariat(PortalUser):
    """Intake of the requests, contracting, the contract register."""

    weight = 20
    usernames = tuple(f"secretariaat.{region}" for region in REGIONS)

    def learn(self) -> None:
        self.collect(
            "/aanvragen/?state=received",
            "/aanvragen/?state=… (filtered list)",
            REQUEST_LINK,
            self.request_pks,
        )
        self.collect("/aanvragen/", "/aanvragen/", REQUEST_LINK, self.request_pks)
        self.collect(
            "/contracten/?status=expiring",
            "/contracten/?status=…",
            CONTRACT_LINK,
            self.contract_pks,
        )
        self.collect("/contracten/", "/contracten/", CONTRACT_LINK, self.contract_pks)

    @task(18)
    def work(self) -> None:
        self.my_work()

    @task(14)
    def received_requests(self) -> None:
        self.page("/aanvragen/?state=received", "/aanvragen/?state=… (filtered list)")

    @task(6)
    def search_requests(self) -> None:
        self.page(f"/aanvragen/?q={random.choice(CITIES)}", "/aanvragen/?q=… (search)")

    @task(16)
    def a_request(self) -> None:
        self.request_detail()

    @task(8)
    def contracts(self) -> None:
        self.contract_list()

    @task(6)
    def expiring_contracts(self) -> None:
        self.page("/contracten/?status=expiring", "/contracten/?status=…")

    @task(14)
    def a_contract(self) -> None:
        self.contract_detail()

    @task(6)
    def dashboard(self) -> None:
        self.regional_dashboard()

    @task(6)
    def requests(self) -> None:
        self.request_list()

    @task(1)
    def export_contracts(self) -> None:
        self.download(
            "/contracten/lijst.xlsx",
            "/contracten/lijst.xlsx (download)",
            "application/vnd.openxmlformats",
        )

    @task(1)
    def export_requests(self) -> None:
        self.download("/aanvragen/lijst.csv", "/aanvragen/lijst.csv (download)", "text/csv")


class AdminReviewer(PortalUser):
    """The quality team and the regional council work in the beheeromgeving (Django admin):
    the requests waiting at their ``step``, a request's change page, and the portal's pages."""

    abstract = True
    step = ""

    def learn(self) -> None:
        self.changelist = f"{ADMIN_REQUESTS}?state__exact={self.step}"
        self.collect(
            self.changelist,
            "/admin/…/admissionrequest/?state__exact=…",
            ADMIN_REQUEST_LINK,
            self.request_pks,
            expect=CHANGELIST,
        )
        self.collect(
            ADMIN_REQUESTS,
            "/admin/…/admissionrequest/",
            ADMIN_REQUEST_LINK,
            self.request_pks,
            expect=CHANGELIST,
        )

    @task(24)
    def waiting_requests(self) -> None:
        self.page(self.changelist, "/admin/…/admissionrequest/?state__exact=…", expect=CHANGELIST)

    @task(22)
    def a_request_in_the_admin(self) -> None:
        self.admin_request_change()

    @task(8)
    def all_requests_in_the_admin(self) -> None:
        self.page(ADMIN_REQUESTS, "/admin/…/admissionrequest/", expect=CHANGELIST)

    @task(18)
    def work(self) -> None:
        self.my_work()

    @task(18)
    def a_request(self) -> None:
        self.request_detail()

    @task(8)
    def dashboard(self) -> None:
        self.regional_dashboard()


class QualityTeam(AdminReviewer):
    weight = 10
    usernames = tuple(f"kwaliteitsteam.{region}" for region in REGIONS)
    step = "quality_review"


class Council(AdminReviewer):
    weight = 10
    usernames = logins.council_logins()
    second_factor = True
    step = "council_review"


class Finance(PortalUser):
    """Invoices and payments; the contracts and dashboards of every region."""

    weight = 15
    usernames = logins.finance_logins()
    second_factor = True

    def learn(self) -> None:
        self.invoice_pks: list[int] = []
        self.collect(
            "/facturatie/facturen/", "/facturatie/facturen/", INVOICE_LINK, self.invoice_pks
        )
        self.collect("/contracten/", "/contracten/", CONTRACT_LINK, self.contract_pks)

    @task(26)
    def invoices(self) -> None:
        self.page("/facturatie/facturen/", "/facturatie/facturen/")

    @task(24)
    def an_invoice(self) -> None:
        if self.invoice_pks:
            pk = random.choice(self.invoice_pks)
            self.page(f"/facturatie/facturen/{pk}/", "/facturatie/facturen/[pk]/")

    @task(14)
    def contracts(self) -> None:
        self.contract_list()

    @task(10)
    def a_contract(self) -> None:
        self.contract_detail()

    @task(14)
    def dashboards(self) -> None:
        self.regions_overview()

    @task(10)
    def all_regions(self) -> None:
        self.page("/dashboard/alle-regios/", "/dashboard/alle-regios/")

    @task(1)
    def export_invoices(self) -> None:
        self.download(
            "/facturatie/facturen/lijst.csv",
            "/facturatie/facturen/lijst.csv (download)",
            "text/csv",
        )


class Administrator(PortalUser):
    """Maintains users and reference data in the admin; looks at everything."""

    weight = 10
    usernames = logins.administrator_logins()
    second_factor = True

    def learn(self) -> None:
        self.collect("/aanvragen/", "/aanvragen/", REQUEST_LINK, self.request_pks)
        self.collect("/contracten/", "/contracten/", CONTRACT_LINK, self.contract_pks)

    @task(14)
    def admin_index(self) -> None:
        self.page("/admin/", "/admin/", expect="app-procedure")

    @task(14)
    def requests_in_the_admin(self) -> None:
        self.page(ADMIN_REQUESTS, "/admin/…/admissionrequest/", expect=CHANGELIST)

    @task(10)
    def a_request_in_the_admin(self) -> None:
        self.admin_request_change()

    @task(8)
    def users(self) -> None:
        self.page("/admin/accounts/user/", "/admin/accounts/user/", expect=CHANGELIST)

    @task(14)
    def requests(self) -> None:
        self.request_list()

    @task(14)
    def a_request(self) -> None:
        self.request_detail()

    @task(8)
    def contracts(self) -> None:
        self.contract_list()

    @task(8)
    def a_contract(self) -> None:
        self.contract_detail()

    @task(10)
    def dashboards(self) -> None:
        self.regions_overview()

    @task(1)
    def export_locations(self) -> None:
        self.download("/locaties/lijst.csv", "/locaties/lijst.csv (download)", "text/csv")


class FloorProbe(PortalUser):
    """Not a user but the measuring instrument beside them: one of it (``fixed_count``), logged
    in as a secretariat, asks about once a second for one of the pages' floors
    (``bench/minimal_urls.py``), behind the same login, session and middleware: the real
    ``base.html`` for a logged-in user with an empty content block (``bench_base_page``, which
    ``procedure_pages.py`` compares every page with), or that page with a table of 50 of the
    region's requests drawn the cheapest way (``bench_list_page_cheapest``: the least a page
    with a 50-row table does). Their response times say what the cheapest logged-in page and
    the cheapest list take on this machine under the same load (kind ``floor``: reported, not
    targeted)."""

    fixed_count = 1
    wait_time = between(0.5, 1.5)
    usernames = (f"secretariaat.{REGIONS[-1]}",)

    @task
    def floor(self) -> None:
        self.page("/bench/base/", FLOOR_PAGE, kind="floor")

    @task
    def cheapest_list(self) -> None:
        self.page("/bench/list-cheapest/", CHEAPEST_LIST_PAGE, kind="floor")


def _one_user_per_role() -> None:
    for user_class in (
        LocationManager,
        ProgrammeManager,
        Secretariat,
        QualityTeam,
        Council,
        Finance,
        Administrator,
    ):
        user_class.weight = 1


if TOUR:
    _one_user_per_role()
