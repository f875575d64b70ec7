"""django-axes locks a username out from one address after five failed logins (NEN 7510:
protect the login), so that nobody can lock a colleague out at the colleague's own desk."""

import pytest
from django.urls import reverse

from hap_contracting.core.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "geheim-wachtwoord"


def log_in(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_the_sixth_attempt_is_refused_even_with_the_right_password(client, zwolle, make_user):
    user = make_user(Role.LOCATION_MANAGER, region=zwolle)
    attempts = [log_in(client, user.username, "fout").status_code for _ in range(5)]
    assert attempts == [200, 200, 200, 200, 429]  # the fifth failure locks

    response = log_in(client, user.username, PASSWORD)

    assert response.status_code == 429
    assert "Te veel mislukte" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_mistakes_still_let_the_right_password_in(client, zwolle, make_user):
    user = make_user(Role.LOCATION_MANAGER, region=zwolle)
    for _ in range(4):
        log_in(client, user.username, "fout")

    response = log_in(client, user.username, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_success_resets_the_count(client, zwolle, make_user):
    user = make_user(Role.LOCATION_MANAGER, region=zwolle)
    for _ in range(4):
        log_in(client, user.username, "fout")
    log_in(client, user.username, PASSWORD)
    client.logout()
    for _ in range(4):
        log_in(client, user.username, "fout")

    assert log_in(client, user.username, PASSWORD).status_code == 302


def test_the_lockout_is_per_username(client, zwolle, make_user):
    locked = make_user(Role.LOCATION_MANAGER, region=zwolle)
    colleague = make_user(Role.LOCATION_MANAGER, region=zwolle)
    for _ in range(5):
        log_in(client, locked.username, "fout")

    assert log_in(client, colleague.username, PASSWORD).status_code == 302


def test_five_wrong_passwords_from_elsewhere_do_not_lock_the_council_out_at_its_desk(
    client, zwolle, make_user
):
    council = make_user(Role.REGIONAL_COUNCIL, region=zwolle)
    for _ in range(5):
        log_in(client, council.username, "fout", address="192.0.2.66")
    assert log_in(client, council.username, PASSWORD, address="192.0.2.66").status_code == 429

    assert log_in(client, council.username, PASSWORD, address="10.0.0.1").status_code == 302
