"""/healthz: can this web process reach its database and its broker?

For the container health check and the load balancer: no login, no versions, no error details
(those go to the log). 200 when both answer, 503 naming the one that does not.

It also says when the triage filter list last changed (``triage_list_changed_at``, ISO 8601, or
null before any change or when the database does not answer), so monitoring sees a list that
stopped changing, beside the triage system's own sync; the status does not depend on it.
"""

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

from hap_contracting.triage.selectors import triage_list_head

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2


def database_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("health check: database unreachable", exc_info=True)
        return False
    return True


def broker_reachable() -> bool:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=BROKER_TIMEOUT_SECONDS,
            transport_options={"socket_timeout": BROKER_TIMEOUT_SECONDS},
        ) as broker:
            broker.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception:
        logger.warning("health check: broker unreachable", exc_info=True)
        return False
    return True


@never_cache
@require_safe
def healthz(request):
    checks = {
        "database": "ok" if database_reachable() else "unreachable",
        "broker": "ok" if broker_reachable() else "unreachable",
    }
    healthy = all(state == "ok" for state in checks.values())
    changed_at = triage_list_changed_at() if checks["database"] == "ok" else None
    return JsonResponse(
        {**checks, "triage_list_changed_at": changed_at}, status=200 if healthy else 503
    )


def triage_list_changed_at() -> str | None:
    try:
        changed_at = triage_list_head()["changed_at"]
    except Exception:  # a database that answers SELECT 1 but not this (not migrated yet)
        logger.warning("health check: triage list not readable", exc_info=True)
        return None
    return changed_at.isoformat() if changed_at else None
