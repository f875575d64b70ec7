"""/healthz tells the container and the load balancer whether the database and the broker
answer: 200 or 503, without login and without versions."""

import pytest
from django.db import OperationalError, connection

import config.healthz

pytestmark = pytest.mark.django_db

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_ok(monkeypatch):
    monkeypatch.setattr(config.healthz, "broker_reachable", lambda: True)


def test_healthy_database_and_broker_answer_200(client, broker_ok):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "triage_list_changed_at": None}
    assert response["Cache-Control"].startswith("max-age=0")


def test_an_unreachable_broker_answers_503(client, settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT_BROKER

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "database": "ok",
        "broker": "unreachable",
        "triage_list_changed_at": None,
    }


def test_an_unreachable_database_answers_503(client, broker_ok, monkeypatch):
    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "database": "unreachable",
        "broker": "ok",
        "triage_list_changed_at": None,
    }


def test_it_reveals_nothing_but_the_two_states(client, settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT_BROKER

    body = client.get("/healthz").content.decode()

    assert "1" not in body  # no port, no version number, no error text
    assert "Error" not in body


def test_it_needs_no_login_even_where_a_second_factor_is_required(
    client, broker_ok, settings, zwolle, make_user
):
    from hap_contracting.core.roles import Role

    settings.OTP_REQUIRED = True
    assert client.get("/healthz").status_code == 200
    client.force_login(make_user(Role.REGIONAL_COUNCIL, region=zwolle))
    assert client.get("/healthz").status_code == 200


@pytest.mark.redis
def test_the_real_broker_is_reachable(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["broker"] == "ok"
