"""Users change their own password; a forgotten one is reset by e-mail, rate-limited and
without saying whether an account exists. Passwords have at least 12 characters and are not
common ones."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from hap_contracting.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def secretary(zwolle, make_user):
    return make_user(Role.SECRETARIAT, region=zwolle, email="sanne@example.org")


def test_a_user_changes_their_own_password(client, secretary):
    client.force_login(secretary)

    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "geheim-wachtwoord",
            "new_password1": "Paardenbloem-Zwolle-2027",
            "new_password2": "Paardenbloem-Zwolle-2027",
        },
    )

    assert response.status_code == 302
    secretary.refresh_from_db()
    assert secretary.check_password("Paardenbloem-Zwolle-2027")


@pytest.mark.parametrize("weak", ["kort-1234", "password1234", "12345678901234"])
def test_a_short_common_or_numeric_password_is_refused(client, secretary, weak):
    client.force_login(secretary)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "geheim-wachtwoord", "new_password1": weak, "new_password2": weak},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    secretary.refresh_from_db()
    assert secretary.check_password("geheim-wachtwoord")


def test_a_reset_link_by_email_sets_a_new_password(client, secretary):
    client.post(reverse("accounts:password_reset"), {"email": "sanne@example.org"})

    link = re.search(r"http://testserver(/wachtwoord-herstellen/\S+)", mail.outbox[0].body)
    form = client.get(link.group(1), follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Nieuw-en-lang-genoeg-1", "new_password2": "Nieuw-en-lang-genoeg-1"},
    )

    assert done.status_code == 302
    secretary.refresh_from_db()
    assert secretary.check_password("Nieuw-en-lang-genoeg-1")


def test_the_reset_page_does_not_say_whether_an_account_exists(client, secretary):
    known = client.post(reverse("accounts:password_reset"), {"email": "sanne@example.org"})
    unknown = client.post(reverse("accounts:password_reset"), {"email": "niemand@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 1


def test_resets_are_rate_limited_per_address_and_per_email(client, secretary):
    url = reverse("accounts:password_reset")
    answers = [client.post(url, {"email": "sanne@example.org"}).status_code for _ in range(4)]
    others = [
        client.post(url, {"email": f"iemand{n}@example.org"}, REMOTE_ADDR="10.0.0.9").status_code
        for n in range(6)
    ]

    assert answers == [302, 302, 302, 429]
    assert others == [302, 302, 302, 302, 302, 429]
    assert len(mail.outbox) == 3
