"""Shared fixtures. Tests marked ``postgres``, ``redis`` or ``browser`` need that service: they
skip where it is missing, unless REQUIRE_SERVICES=1 (set by .ci/run) turns the skip into a
failure so CI can't pass by silently skipping them."""

import os
import socket

import pytest
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


@pytest.fixture
def zwolle(db):
    from tests.factories import HapPostFactory, PostcodeRangeFactory, RegionFactory

    region = RegionFactory(name="Zwolle", slug="zwolle")
    post = HapPostFactory(region=region, name="HAP Zwolle", city="Zwolle")
    PostcodeRangeFactory(post=post, first=8000, last=8199)
    return region


@pytest.fixture
def flevoland(db):
    from tests.factories import HapPostFactory, PostcodeRangeFactory, RegionFactory

    region = RegionFactory(name="Flevoland", slug="flevoland")
    post = HapPostFactory(region=region, name="HAP Almere", city="Almere")
    PostcodeRangeFactory(post=post, first=1300, last=1399)
    return region


@pytest.fixture
def make_user(db):
    """``make_user(Role.QUALITY_TEAM, zwolle)``: an active user with that role in that region."""
    from tests.factories import UserFactory

    def make(*roles, region=None, **kwargs):
        return UserFactory(roles=list(roles), region=region, **kwargs)

    return make


@pytest.fixture
def staff(zwolle, make_user):
    """One user per role in Zwolle, by role name."""
    from hap_contracting.constants import Role

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
    from tests.factories import CareLocationFactory

    return CareLocationFactory(hap_post=zwolle.posts.get(), postcode="8011 AB")
