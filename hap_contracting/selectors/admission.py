"""Reads of the procedure. Every query starts from the user's region scope."""

import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import BooleanField, Case, DateField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from ..constants import RequestState, Role
from ..models import AdmissionRequest, TransitionLog, User
from ..services.renewals import completion_deadline, council_approval_date

S = RequestState


def users_with_role_in_region(role: str, region_id: int) -> QuerySet[User]:
    return User.objects.filter(is_active=True, region_id=region_id, groups__name=role).distinct()


class StaffDirectory:
    """E-mail addresses of active staff by (role, region), read in one query, so a job that
    mails many people does not query per message."""

    def __init__(self):
        self._emails: dict[tuple[str, int | None], list[str]] = {}
        rows = (
            User.objects.filter(is_active=True, groups__isnull=False)
            .exclude(email="")
            .values_list("groups__name", "region_id", "email")
        )
        for role, region_id, email in rows:
            self._emails.setdefault((role, region_id), []).append(email)

    def emails(self, role: str, region_id: int | None) -> list[str]:
        return list(self._emails.get((role, region_id), []))


def admission_requests_visible_to(user: User) -> QuerySet[AdmissionRequest]:
    """All requests the user may see: their region's, or all for finance and administrators."""
    queryset = AdmissionRequest.objects.select_related(
        "location__region",
        "location__hap_post",
        "location__organisation",
        "assigned_location_manager",
    )
    if not user.is_authenticated or not user.role_names:
        return queryset.none()
    if user.sees_all_regions:
        return queryset
    return queryset.filter(location__region_id=user.region_id)


def waiting_for_user_filter(user: User) -> Q:
    """What waits for this user's roles (seed 004, appendix 5: who acts at which step)."""
    waiting = Q(pk__in=[])
    if user.has_role(Role.SECRETARIAT):
        waiting |= Q(state=S.RECEIVED) | Q(state=S.CONTRACTING, outcome_recorded_at__isnull=False)
    if user.has_role(Role.LOCATION_MANAGER):
        waiting |= Q(assigned_location_manager=user) & (
            Q(state=S.PRE_ASSESSMENT) | Q(state=S.CONTRACTING, outcome_recorded_at__isnull=True)
        )
    if user.has_role(Role.PROGRAMME_MANAGER):
        waiting |= Q(state=S.PRE_ASSESSMENT)
    if user.has_role(Role.QUALITY_TEAM):
        waiting |= Q(state=S.QUALITY_REVIEW)
    if user.has_role(Role.REGIONAL_COUNCIL):
        waiting |= Q(state=S.COUNCIL_REVIEW)
    return waiting


def my_work(user: User, today: datetime.date | None = None) -> QuerySet[AdmissionRequest]:
    """The user's work list, longest waiting first.

    Each row carries ``contract_lapsed`` (a renewal whose contract's end date has passed: the
    location has no running contract) and ``approved_on`` (the council's approval, from which
    ``with_completion_deadlines`` computes the completion deadline of seed 004, 7.1)."""
    today = today or timezone.localdate()
    return (
        admission_requests_visible_to(user)
        .filter(waiting_for_user_filter(user))
        .annotate(
            contract_lapsed=Case(
                When(renews_contract__end_date__lt=today, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            approved_on=Case(
                When(state=S.CONTRACTING, then=council_approval_date()),
                default=None,
                output_field=DateField(),
            ),
        )
        .order_by("state_entered_at", "pk")
    )


def with_completion_deadlines(requests, today: datetime.date) -> list[AdmissionRequest]:
    """Set ``completion_deadline`` and ``deadline_passed``/``deadline_near`` on rows annotated
    by ``my_work`` (in Python: the deadline is a calendar-month offset). No queries."""
    near = max(settings.COMPLETION_REMINDER_DAYS)
    rows = list(requests)
    for row in rows:
        row.completion_deadline = deadline = (
            completion_deadline(row.approved_on) if row.approved_on else None
        )
        row.deadline_passed = deadline is not None and deadline < today
        row.deadline_near = (
            deadline is not None
            and not row.deadline_passed
            and deadline <= today + datetime.timedelta(days=near)
        )
    return rows


def admission_request_for_user(user: User, pk: int) -> AdmissionRequest:
    """One request, or 404 when it does not exist *or* lies outside the user's region."""
    return get_object_or_404(admission_requests_visible_to(user), pk=pk)


def admission_request_history(admission_request: AdmissionRequest) -> QuerySet[TransitionLog]:
    content_type = ContentType.objects.get_for_model(AdmissionRequest)
    return (
        TransitionLog.objects.filter(content_type=content_type, object_id=admission_request.pk)
        # content_type: each row's state labels look up its model class through it.
        .select_related("by", "content_type")
        .order_by("timestamp", "pk")
    )
