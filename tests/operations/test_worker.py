"""The daily job through the real pieces: the Redis broker, a Celery worker process and
PostgreSQL. The test enqueues the task as beat would; the worker runs it and the effects are read
back from the database."""

import datetime
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from bench import runner
from config.celery_app import app as celery_app
from hap_contracting.contracts.constants import ReminderKind
from hap_contracting.contracts.models import Reminder
from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import RequestKind, RequestState
from hap_contracting.procedure.models import AdmissionRequest
from tests.contracts.factories import ContractFactory
from tests.procedure.factories import AdmissionRequestFactory

ROOT = Path(__file__).resolve().parent.parent.parent
TODAY = datetime.date(2026, 11, 23)


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


@pytest.fixture
def worker(tmp_path):
    """A real worker on a queue of its own, on the test database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "DJANGO_EMAIL_URL": "console://",
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            runner.celery_worker_command(queue),
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield queue, log
        finally:
            runner.stop(process, timeout=20)


def _wait_for(condition, log: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"the worker did not finish in {timeout} s; its log:\n{log.read_text()}")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_daily_job_runs_on_a_real_worker_through_redis(worker, staff, location):
    queue, log = worker
    origin = AdmissionRequestFactory(
        location=location,
        state=RequestState.CONTRACTED,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
    )
    contract = ContractFactory(
        location=location, admission_request=origin, end_date=TODAY + datetime.timedelta(days=60)
    )

    # Through the broker, as beat sends it; the test settings' eager mode is for other tests.
    celery_app.conf.task_always_eager = False
    try:
        for _ in range(2):  # beat firing twice must not double anything
            celery_app.send_task("operations.run_daily_job", args=[TODAY.isoformat()], queue=queue)
    finally:
        celery_app.conf.task_always_eager = True

    def reminders_sent() -> bool:
        return (
            Reminder.objects.filter(contract=contract, sent_at__isnull=False).count() == 2
            and log.read_text().count("succeeded") >= 4
        )

    _wait_for(reminders_sent, log)
    renewal = AdmissionRequest.objects.get(renews_contract=contract)
    assert (renewal.kind, renewal.state) == (RequestKind.RENEWAL, RequestState.RECEIVED)
    assert AdmissionRequest.objects.filter(kind=RequestKind.RENEWAL).count() == 1
    assert set(Reminder.objects.filter(contract=contract).values_list("kind", "due_on")) == {
        (ReminderKind.RENEWAL_OPENED, TODAY),
        (ReminderKind.RENEWAL_DUE, TODAY),
    }
    opened = Reminder.objects.get(kind=ReminderKind.RENEWAL_OPENED)
    assert staff[Role.SECRETARIAT].email in opened.recipients
    assert staff[Role.LOCATION_MANAGER].email in opened.recipients
