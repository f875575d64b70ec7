"""Thin Celery tasks: they take primary keys and call a service."""

from celery import shared_task

from .services.notifications import notify_next_actors


@shared_task(name="procedure.notify_request_state_entered")
def notify_request_state_entered(
    admission_request_id: int, state: str, outcome_recorded: bool = False
) -> int:
    return notify_next_actors(
        admission_request_id=admission_request_id, state=state, outcome_recorded=outcome_recorded
    )
