"""Asking for background work by task name (``core.jobs``)."""

import time
import uuid

import pytest
from kombu.exceptions import OperationalError

from config.celery_app import app as celery_app
from hap_contracting.core.jobs import enqueue_now


@pytest.fixture
def unreachable_broker():
    """A broker that refuses connections (nothing listens on port 1), and Celery not eager."""
    kept = {
        "task_always_eager": celery_app.conf.task_always_eager,
        "broker_write_url": celery_app.conf.broker_write_url,
    }
    celery_app.conf.update(task_always_eager=False, broker_write_url="redis://127.0.0.1:1/0")
    yield
    celery_app.conf.update(kept)


def test_work_a_page_could_do_itself_fails_at_once_when_the_broker_is_unreachable(
    unreachable_broker,
):
    started = time.monotonic()

    with pytest.raises(OperationalError):
        enqueue_now("dashboard.redraw_figures", None, 1, "nl")

    # Neither the connection nor the publishing is tried again (that took 6 s).
    assert time.monotonic() - started < 1


@pytest.fixture
def own_queue():
    """The project's broker (Redis), not eager, with a queue of the test's own."""
    queue = f"test-jobs-{uuid.uuid4().hex[:8]}"
    kept = {
        "task_always_eager": celery_app.conf.task_always_eager,
        "task_default_queue": celery_app.conf.task_default_queue,
    }
    celery_app.conf.update(task_always_eager=False, task_default_queue=queue)
    yield queue
    celery_app.conf.update(kept)
    with celery_app.connection_for_write() as connection:
        connection.default_channel.client.delete(queue)


@pytest.mark.redis
def test_work_asked_for_at_once_is_on_the_workers_queue(own_queue):
    enqueue_now("dashboard.redraw_figures", None, 1, "nl")

    with celery_app.connection_for_write() as connection:
        assert connection.default_channel.client.llen(own_queue) == 1
