"""E-mail to whoever must act next. Sent from a task enqueued after the transaction commits,
so nobody is told about a step that was rolled back."""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.selectors import StaffDirectory, users_with_role_in_region
from hap_contracting.core.roles import Role

from ..constants import RequestState
from ..models import AdmissionRequest

S = RequestState

# Who acts next, per state entered (seed 004, appendix 5).
_NEXT_ROLE = {
    S.RECEIVED: Role.SECRETARIAT,
    S.QUALITY_REVIEW: Role.QUALITY_TEAM,
    S.COUNCIL_REVIEW: Role.REGIONAL_COUNCIL,
}
_REQUESTER_STATES = {S.RECEIVED, S.CONTRACTED, S.REJECTED, S.WITHDRAWN}


def recipients_for_state(
    admission_request: AdmissionRequest,
    *,
    state: str | None = None,
    outcome_recorded: bool | None = None,
    directory: StaffDirectory | None = None,
) -> list[str]:
    """The staff who must act next on the request in ``state`` (default: its current state)."""
    state = state or admission_request.state
    if outcome_recorded is None:
        outcome_recorded = admission_request.outcome_recorded_at is not None
    region_id = admission_request.location.region_id

    def emails_of(role):
        if directory is not None:
            return directory.emails(role, region_id)
        return [u.email for u in users_with_role_in_region(role, region_id)]

    if state in _NEXT_ROLE:
        return emails_of(_NEXT_ROLE[state])
    if state == S.PRE_ASSESSMENT or (state == S.CONTRACTING and not outcome_recorded):
        manager = admission_request.assigned_location_manager
        return [manager.email] if manager and manager.email else []
    if state in (S.CONTRACTING, S.CONTRACTED, S.REJECTED, S.WITHDRAWN):
        return emails_of(Role.SECRETARIAT)
    return []


def notify_next_actors(*, admission_request_id: int, state: str, outcome_recorded: bool) -> int:
    """Send the Dutch e-mails for entering ``state``; returns the number of messages sent."""
    admission_request = (
        AdmissionRequest.objects.select_related("location__region", "assigned_location_manager")
        .filter(pk=admission_request_id)
        .first()
    )
    if admission_request is None:
        return 0
    staff = sorted(
        {
            email
            for email in recipients_for_state(
                admission_request, state=state, outcome_recorded=outcome_recorded
            )
            if email
        }
    )
    context = {
        "request": admission_request,
        "state": state,
        "state_label": S(state).label,
        "outcome_recorded": outcome_recorded,
        "staff_url": settings.SITE_URL
        + reverse("procedure:request_detail", args=[admission_request.pk]),
        "status_url": settings.SITE_URL
        + reverse("procedure:requester_status", args=[admission_request.public_token]),
    }
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        subject_context = {"reference": admission_request.reference}
        if staff:
            subject = render_to_string(
                "procedure/email/staff_subject.txt", {**context, **subject_context}
            )
            body = render_to_string("procedure/email/staff_body.txt", context)
            messages += [
                EmailMessage(subject.strip(), body, settings.DEFAULT_FROM_EMAIL, [address])
                for address in staff
            ]
        if state in _REQUESTER_STATES:
            subject = render_to_string(
                "procedure/email/requester_subject.txt", {**context, **subject_context}
            )
            body = render_to_string("procedure/email/requester_body.txt", context)
            messages.append(
                EmailMessage(
                    subject.strip(),
                    body,
                    settings.DEFAULT_FROM_EMAIL,
                    [admission_request.requester_email],
                )
            )
    if not messages:
        return 0
    return get_connection().send_messages(messages) or 0
