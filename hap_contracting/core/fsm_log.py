"""django-fsm-log's history row, dated when the step happened.

The transition history is append-only (``core.chain``: on PostgreSQL a trigger refuses every
UPDATE), so a row can't be dated after it is written: a step recorded later than it was taken
(the demo's back-dated history, a step entered from paper) gives its moment while the row is
written. ``logged_at(instance, moment)`` around the transition call does that; without it the
row is dated now, as django-fsm-log's simple backend does (``DJANGO_FSM_LOG_STORAGE_METHOD``
names this backend).
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager, suppress

from django.conf import settings
from django_fsm_log.backends import SimpleBackend
from django_fsm_log.helpers import FSMLogDescriptor


@contextmanager
def logged_at(instance, moment: datetime.datetime | None):
    """The history row of a transition of ``instance`` run inside this block is dated
    ``moment`` (``None``: now)."""
    if moment is None:
        yield
        return
    with FSMLogDescriptor(instance, "at", moment):
        yield


class DatedBackend(SimpleBackend):
    """django-fsm-log's ``SimpleBackend`` (a row written after each transition), with the
    moment ``logged_at`` gave."""

    @staticmethod
    def post_transition_callback(sender, instance, name, source, target, **kwargs):
        from django_fsm_log.models import StateLog

        qualified = f"{sender.__module__}.{getattr(sender, '__qualname__', sender.__name__)}"
        if target is None or qualified in settings.DJANGO_FSM_LOG_IGNORED_MODELS:
            return None
        values = {
            "source_state": source,
            "state": target,
            "transition": name,
            "content_object": instance,
        }
        for attribute in ("by", "description"):
            with suppress(AttributeError):
                values[attribute] = FSMLogDescriptor(instance, attribute).get()
        with suppress(AttributeError):
            values["timestamp"] = FSMLogDescriptor(instance, "at").get()
        return StateLog.objects.create(**values)


def log_transitions(
    instances, *, name: str, source, target, by=None, at: datetime.datetime | None = None
) -> None:
    """The history rows of one step taken on many objects at once, in one INSERT: what
    ``DatedBackend`` writes per transition, for a service that takes the step set-based."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone
    from django_fsm_log.models import StateLog

    instances = list(instances)
    if not instances:
        return
    content_type = ContentType.objects.get_for_model(instances[0])
    StateLog.objects.bulk_create(
        StateLog(
            content_type=content_type,
            object_id=instance.pk,
            source_state=source,
            state=target,
            transition=name,
            by=by,
            timestamp=at or timezone.now(),
        )
        for instance in instances
    )
