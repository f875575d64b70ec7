"""A session ends after 30 idle minutes and at the latest 10 hours after the login."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from hap_contracting.core.roles import Role

pytestmark = pytest.mark.django_db

MY_WORK = "/"


@pytest.fixture
def logged_in(client, zwolle, make_user):
    user = make_user(Role.SECRETARIAT, region=zwolle)
    client.post(reverse("login"), {"username": user.username, "password": "geheim-wachtwoord"})
    return client


def at(minutes: float):
    return time_machine.travel(timezone.now() + datetime.timedelta(minutes=minutes), tick=False)


def test_thirty_idle_minutes_log_the_user_out(logged_in):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert logged_in.get(MY_WORK).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=31), tick=False):
        response = logged_in.get(MY_WORK)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in logged_in.session


def test_activity_keeps_the_session_but_not_beyond_ten_hours(logged_in):
    start = timezone.now()
    minute = 0
    while minute < 9 * 60 + 50:
        minute += 20
        with time_machine.travel(start + datetime.timedelta(minutes=minute), tick=False):
            assert logged_in.get(MY_WORK).status_code == 200, minute
    with time_machine.travel(start + datetime.timedelta(hours=10, minutes=10), tick=False):
        assert logged_in.get(MY_WORK).status_code == 302


def test_staying_logged_in_from_the_warning_counts_as_activity(logged_in):
    start = timezone.now()
    with time_machine.travel(start + datetime.timedelta(minutes=26), tick=False):
        assert logged_in.post(reverse("accounts:session_keepalive")).status_code == 204
    with time_machine.travel(start + datetime.timedelta(minutes=50), tick=False):
        assert logged_in.get(MY_WORK).status_code == 200


def test_the_page_carries_the_warning_and_its_timings(logged_in):
    html = logged_in.get(MY_WORK).content.decode()

    assert 'data-session-idle="1800"' in html and 'data-session-warning="300"' in html
    assert 'id="session-warning"' in html and "js/session-timeout.js" in html
