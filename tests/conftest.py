"""Shared fixtures. Tests marked ``postgres``, ``redis`` or ``browser`` need that service: they
skip where it is missing, unless REQUIRE_SERVICES=1 (set by .ci/run) turns the skip into a
failure so CI can't pass by silently skipping them."""

import os
import socket

import pytest
from django.core.cache import cache
from django.db import connection

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _redis_reachable() -> bool:
    from django.conf import settings
    from kombu.utils.url import url_to_parts

    parts = url_to_parts(settings.CELERY_BROKER_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        skip_or_fail("this test needs PostgreSQL (set DATABASE_URL=postgres://...)")
    if item.get_closest_marker("redis") and not _redis_reachable():
        skip_or_fail("this test needs a Redis broker (CELERY_BROKER_URL)")


@pytest.fixture(autouse=True)
def _dutch_and_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "nl"
    # The rate limits count in the cache: every test starts with none used.
    cache.clear()


@pytest.fixture
def zwolle(db):
    from tests.organisations.factories import HapPostFactory, PostcodeRangeFactory, RegionFactory

    region = RegionFactory(name="Zwolle", slug="zwolle")
    post = HapPostFactory(region=region, name="HAP Zwolle", city="Zwolle")
    PostcodeRangeFactory(post=post, first=8000, last=8199)
    return region


@pytest.fixture
def flevoland(db):
    from tests.organisations.factories import HapPostFactory, PostcodeRangeFactory, RegionFactory

    region = RegionFactory(name="Flevoland", slug="flevoland")
    post = HapPostFactory(region=region, name="HAP Almere", city="Almere")
    PostcodeRangeFactory(post=post, first=1300, last=1399)
    return region


@pytest.fixture
def make_user(db):
    """``make_user(Role.QUALITY_TEAM, zwolle)``: an active user with that role in that region."""
    from tests.accounts.factories import UserFactory

    def make(*roles, region=None, **kwargs):
        return UserFactory(roles=list(roles), region=region, **kwargs)

    return make


@pytest.fixture
def staff(zwolle, make_user):
    """One user per role in Zwolle, by role name."""
    from hap_contracting.core.roles import Role

    users = {
        role: make_user(role, region=zwolle)
        for role in Role
        if role not in (Role.FINANCE, Role.ADMINISTRATOR)
    }
    users[Role.FINANCE] = make_user(Role.FINANCE)
    users[Role.ADMINISTRATOR] = make_user(Role.ADMINISTRATOR, is_staff=True)
    return users


@pytest.fixture
def location(zwolle):
    from tests.organisations.factories import CareLocationFactory

    return CareLocationFactory(hap_post=zwolle.posts.get(), postcode="8011 AB")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can see whether it failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    import shutil

    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        skip_or_fail("Chromium is not installed (Debian package chromium)")
    return path


# The widths the browser tests run at: a desktop, and a phone (where the menu is folded away
# behind its button; see ``open_menu``).
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 720},
    "phone": {"width": 390, "height": 844},
}


@pytest.fixture
def viewport():
    """The browser window's size; a test module runs its journeys at both widths by overriding
    this fixture with ``params=list(VIEWPORTS)``."""
    return VIEWPORTS["desktop"]


def open_menu(page) -> None:
    """Open the main menu where it is folded away behind its button (at a phone's width); where
    the menu is shown anyway, nothing happens."""
    toggler = page.locator("nav.navbar .navbar-toggler")
    if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
        toggler.click()
        page.locator("#nav.show").wait_for()


def open_user_menu(page) -> None:
    """The user's own menu (password, log out), at any width."""
    open_menu(page)
    toggle = page.locator("#user-menu")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
        page.locator("#user-menu + .dropdown-menu.show").wait_for()


@pytest.fixture
def page(request, chromium_executable, live_server, viewport):
    """A Playwright page in Debian's Chromium against the live server, in a window of
    ``viewport``'s size; a screenshot of a failing test is kept in test-artifacts/."""
    from pathlib import Path

    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between browser steps are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(locale="nl-NL", base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(15_000)
        browser_page = context.new_page()
        yield browser_page
        failed = getattr(request.node, "report_call", None)
        if failed is not None and failed.failed:
            artifacts = Path(__file__).resolve().parent.parent / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            browser_page.screenshot(
                path=str(artifacts / f"{request.node.name}.png"), full_page=True
            )
        context.close()
        browser.close()
        # The ORM calls a test makes between browser steps leave a connection open that
        # pytest-django's teardown does not close; on PostgreSQL it kept the test database from
        # being dropped at the end of the run. Browser tests are transactional, so closing it
        # here loses nothing.
        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def log_in(page):
    def log_in_as(user, password="geheim-wachtwoord"):
        page.goto("/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)

    return log_in_as
