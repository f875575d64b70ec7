"""The procedure's own pages: the request list and dossier, the steps' forms, registering a
request, the requester's status page and the procedure explained. Thin: reads through the
selectors, writes through the services, a DomainError shown on the form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from hap_contracting.core import listing
from hap_contracting.core.errors import DomainError
from hap_contracting.organisations.selectors import locations_visible_to

from .. import rules as procedure_rules
from ..actions import ACTIONS, available_actions, blocked_actions
from ..constants import AdviceStep, RequestState
from ..exports import REQUEST_COLUMNS, REQUEST_EXPORT_ANNOTATIONS
from ..forms import AdmissionRequestForm, ExtendDeadlineForm, RequestFilterForm, WithdrawForm
from ..models import AdmissionRequest, conditions_read_once
from ..selectors import admission as admission_selectors
from ..selectors import deadlines as deadline_selectors
from ..selectors.letters import council_has_decided
from ..selectors.steps import procedure_steps, request_progress, withdrawal
from ..services import admission as admission_services
from ..services import deadlines as deadline_services


def _listed_requests(request):
    """The requests the list shows (all pages), for the page and for its export."""
    filters = RequestFilterForm(request.GET or None, user=request.user)
    requests = admission_selectors.admission_request_list(
        request.user, **filters.filters(), sort=request.GET.get(listing.SORT_PARAMETER)
    )
    return filters, requests


@login_required
@require_GET
def request_list(request):
    filters, requests = _listed_requests(request)
    page = Paginator(requests, listing.PAGE_SIZE).get_page(request.GET.get(listing.PAGE_PARAMETER))
    return render(
        request,
        "procedure/request_list.html",
        {
            **listing.list_context(request, admission_selectors.REQUEST_SORTS, page),
            "filters": filters,
        },
    )


@login_required
@require_GET
def request_list_export(request, fmt: str):
    """The request list as CSV or XLSX: no patient data, so not in the access log."""
    _filters, requests = _listed_requests(request)
    return listing.export_response(
        fmt,
        queryset=requests,
        columns=REQUEST_COLUMNS,
        annotations=REQUEST_EXPORT_ANNOTATIONS,
        filename="aanvragen",
        title=_("Requests"),
    )


@login_required
def request_detail(request, pk: int):
    admission_request = admission_selectors.admission_request_detail(request.user, pk)
    history = list(admission_selectors.admission_request_history(admission_request))
    advices = list(admission_request.advices.select_related("decided_by"))
    with conditions_read_once():
        actions = available_actions(admission_request, request.user)
        blocked = blocked_actions(admission_request, request.user)
    return render(
        request,
        "procedure/request_detail.html",
        {
            "admission_request": admission_request,
            "advices": advices,
            "history": history,
            "progress": request_progress(admission_request, history),
            "actions": actions,
            "blocked_actions": blocked,
            "next_step": admission_selectors.who_acts_next(admission_request),
            "AdviceStep": AdviceStep,
            "decision_letter_available": council_has_decided(admission_request, advices=advices),
            "deadline": deadline_selectors.request_step_deadline(admission_request),
            "clock_events": deadline_selectors.request_clock_events(admission_request),
            "may_extend": procedure_rules.can_extend_deadline.test(request.user, admission_request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_extend_deadline(request, pk: int):
    admission_request = admission_selectors.admission_request_for_user(request.user, pk)
    if not procedure_rules.can_extend_deadline.test(request.user, admission_request):
        raise PermissionDenied
    form = ExtendDeadlineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            deadline_services.admission_request_extend_deadline(
                admission_request=admission_request, by=request.user, **form.cleaned_data
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("The deadline has been extended."))
            return redirect("procedure:request_detail", pk=pk)
    return render(
        request,
        "procedure/request_extend_deadline.html",
        {
            "admission_request": admission_request,
            "form": form,
            "deadline": deadline_selectors.request_step_deadline(admission_request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_action(request, pk: int, action: str):
    admission_request = admission_selectors.admission_request_for_user(request.user, pk)
    step = ACTIONS.get(action)
    if step is None or step.form_class is None:
        raise Http404
    data = request.POST if request.method == "POST" else None
    result = step.take(admission_request, request.user, data)
    if result.taken:
        messages.success(
            request,
            _("%(action)s: done. %(next)s")
            % {
                "action": step.label,
                "next": admission_selectors.who_acts_next(admission_request),
            },
        )
        return redirect("procedure:request_detail", pk=admission_request.pk)
    return render(
        request,
        "procedure/request_action.html",
        {
            "admission_request": admission_request,
            "action": step,
            "form": result.form,
            "confirmation": result.confirmation,
            **step.context(admission_request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request):
    if not procedure_rules.can_register_request.test(request.user):
        raise PermissionDenied
    locations = locations_visible_to(request.user).order_by("name")
    initial = {"location": request.GET.get("location")}
    form = AdmissionRequestForm(request.POST or None, locations=locations, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            admission_request = admission_services.admission_request_register(
                by=request.user, **form.cleaned_data
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(
                request,
                _("Request %(reference)s registered. Next: forward it to a location manager.")
                % {"reference": admission_request.reference},
            )
            return redirect("procedure:request_detail", pk=admission_request.pk)
    return render(request, "procedure/request_create.html", {"form": form})


@require_http_methods(["GET", "POST"])
def requester_status(request, token):
    """The requester's view of their request, reached through the link in their e-mail."""
    admission_request = get_object_or_404(
        AdmissionRequest.objects.select_related("location"), public_token=token
    )
    form = WithdrawForm(request.POST or None) if admission_request.is_open else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            admission_services.admission_request_withdraw(
                admission_request=admission_request, by=None, **form.cleaned_data
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("Your request has been withdrawn."))
            return redirect("procedure:requester_status", token=token)
    return render(
        request,
        "procedure/requester_status.html",
        {
            "admission_request": admission_request,
            "form": form,
            "RequestState": RequestState,
        },
    )


@login_required
def procedure_graph(request):
    return render(
        request,
        "procedure/procedure_graph.html",
        {
            "steps": procedure_steps(),
            "withdrawal": withdrawal(),
            "contracted_label": RequestState.CONTRACTED.label,
        },
    )
