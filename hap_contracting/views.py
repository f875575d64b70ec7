"""Thin views: read through selectors, write through services, show DomainErrors on the form."""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import rules as procedure_rules
from .actions import ACTIONS, available_actions
from .charts import monthly_bar_chart
from .constants import AdviceStep, ContractKind, ContractStatus, RequestState
from .errors import DomainError
from .forms import (
    AdmissionRequestForm,
    BreachActionCompleteForm,
    BreachActionForm,
    BreachEscalateForm,
    BreachForm,
    CareLocationForm,
    ContractDocumentForm,
    ContractFilterForm,
    ContractTerminateForm,
    RequestFilterForm,
    WithdrawForm,
)
from .models import AdmissionRequest, CareLocation, ContractDocument
from .selectors import admission as admission_selectors
from .selectors import contracts as contract_selectors
from .selectors.graph import state_graph
from .services import admission as admission_services
from .services import contracts as contract_services
from .services.locations import care_location_register


@login_required
def my_work(request):
    today = timezone.localdate()
    work = admission_selectors.my_work(request.user, today)
    page = Paginator(work, 50).get_page(request.GET.get("page"))
    page.object_list = admission_selectors.with_completion_deadlines(page.object_list, today)
    can_register = procedure_rules.can_register_request.test(request.user)
    return render(
        request,
        "hap_contracting/my_work.html",
        {
            "page": page,
            "can_register": can_register,
            # The secretariat renews contracts: its region's lapsed ones, in one query.
            "lapsed_contracts": contract_selectors.lapsed_unrenewed_contracts(
                request.user, today=today
            )
            if can_register
            else None,
        },
    )


@login_required
def request_list(request):
    filters = RequestFilterForm(request.GET or None)
    requests = admission_selectors.admission_requests_visible_to(request.user)
    if filters.is_valid():
        if filters.cleaned_data["state"]:
            requests = requests.filter(state=filters.cleaned_data["state"])
        if filters.cleaned_data["kind"]:
            requests = requests.filter(kind=filters.cleaned_data["kind"])
        if filters.cleaned_data["q"]:
            term = filters.cleaned_data["q"]
            requests = requests.filter(
                Q(location__name__icontains=term)
                | Q(location__city__icontains=term)
                | Q(location__postcode__icontains=term)
                | Q(requester_name__icontains=term)
            )
    page = Paginator(requests, 50).get_page(request.GET.get("page"))
    return render(request, "hap_contracting/request_list.html", {"page": page, "filters": filters})


@login_required
def request_detail(request, pk: int):
    admission_request = admission_selectors.admission_request_for_user(request.user, pk)
    return render(
        request,
        "hap_contracting/request_detail.html",
        {
            "admission_request": admission_request,
            "advices": admission_request.advices.select_related("decided_by"),
            "history": admission_selectors.admission_request_history(admission_request),
            "actions": available_actions(admission_request, request.user),
            "AdviceStep": AdviceStep,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_action(request, pk: int, action: str):
    admission_request = admission_selectors.admission_request_for_user(request.user, pk)
    step = ACTIONS.get(action)
    if step is None:
        raise Http404
    form = step.build_form(admission_request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            step.perform(admission_request, request.user, form.service_arguments())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("%(action)s: saved.") % {"action": step.label})
            return redirect("hap_contracting:request_detail", pk=admission_request.pk)
    return render(
        request,
        "hap_contracting/request_action.html",
        {
            "admission_request": admission_request,
            "action": step,
            "form": form,
            **step.context(admission_request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request):
    if not procedure_rules.can_register_request.test(request.user):
        raise PermissionDenied
    locations = CareLocation.objects.select_related("region").order_by("name")
    if not request.user.sees_all_regions:
        locations = locations.filter(region_id=request.user.region_id)
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
                _("Request %(reference)s registered.") % {"reference": admission_request.reference},
            )
            return redirect("hap_contracting:request_detail", pk=admission_request.pk)
    return render(request, "hap_contracting/request_create.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def location_create(request):
    if not procedure_rules.can_register_request.test(request.user):
        raise PermissionDenied
    form = CareLocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            location = care_location_register(by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("Location %(name)s registered.") % {"name": location.name})
            return redirect(reverse("hap_contracting:request_create") + f"?location={location.pk}")
    return render(request, "hap_contracting/location_create.html", {"form": form})


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
            return redirect("hap_contracting:requester_status", token=token)
    return render(
        request,
        "hap_contracting/requester_status.html",
        {
            "admission_request": admission_request,
            "form": form,
            "RequestState": RequestState,
        },
    )


@login_required
def procedure_graph(request):
    return render(request, "hap_contracting/procedure_graph.html", {"graph": state_graph()})


# --- Contract register ------------------------------------------------------------------------


@login_required
def contract_list(request):
    if not request.user.role_names:
        raise PermissionDenied
    today = timezone.localdate()
    filters = ContractFilterForm(request.GET or None, user=request.user)
    chosen = filters.filters()
    contracts = contract_selectors.contract_register(request.user, today=today, filters=chosen)
    page = Paginator(contracts, 50).get_page(request.GET.get("page"))
    chart = monthly_bar_chart(
        contract_selectors.contracts_ending_per_month(
            request.user, today=today, region_id=chosen.region_id
        )
    )
    return render(
        request,
        "hap_contracting/contract_list.html",
        {"page": page, "filters": filters, "chart": chart, "today": today},
    )


# The forms of the contract page: which rule lets the user send it, and how it is built.
CONTRACT_FORMS = {
    "document": procedure_rules.can_manage_contract,
    "terminate": procedure_rules.can_manage_contract,
    "breach": procedure_rules.can_record_breach,
    "escalate": procedure_rules.can_record_breach,
    "action": procedure_rules.can_record_breach,
    "complete-action": procedure_rules.can_record_breach,
}


def _posted_contract_form(request, contract, name: str):
    """The bound form ``name`` of the contract page, the key it is shown under, and the service
    call it makes. Breaches and actions are looked up among this contract's own (prefetched)."""
    post, user = request.POST, request.user
    breaches = list(contract.breaches.all())
    if name in ("escalate", "action"):
        breach = next((b for b in breaches if str(b.pk) == post.get("breach")), None)
        if breach is None:
            raise Http404
        if name == "escalate":
            form = BreachEscalateForm(post, current_step=breach.escalation_step)
            service = partial(contract_services.breach_escalate, breach=breach, by=user)
        else:
            form = BreachActionForm(post)
            service = partial(contract_services.breach_action_record, breach=breach, by=user)
        return (name, breach.pk), form, service
    if name == "complete-action":
        actions = [action for breach in breaches for action in breach.actions.all()]
        action = next((a for a in actions if str(a.pk) == post.get("action")), None)
        if action is None:
            raise Http404
        form = BreachActionCompleteForm(post)
        service = partial(contract_services.breach_action_complete, action=action, by=user)
        return (name, action.pk), form, service
    form, service = {
        "document": (
            ContractDocumentForm(post, request.FILES),
            contract_services.contract_document_upload,
        ),
        "terminate": (ContractTerminateForm(post), contract_services.contract_terminate),
        "breach": (BreachForm(post), contract_services.breach_record),
    }[name]
    return name, form, partial(service, contract=contract, by=user)


@login_required
@require_http_methods(["GET", "POST"])
def contract_detail(request, pk: int):
    today = timezone.localdate()
    contract = contract_selectors.contract_for_user(request.user, pk, today=today)
    user = request.user
    bound: dict = {}
    if request.method == "POST":
        name = request.POST.get("form", "")
        rule = CONTRACT_FORMS.get(name)
        if rule is None:
            raise Http404
        if not rule.test(user, contract):
            raise PermissionDenied
        key, form, service = _posted_contract_form(request, contract, name)
        if form.is_valid():
            try:
                service(**form.service_arguments())
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Saved."))
                return redirect("hap_contracting:contract_detail", pk=contract.pk)
        bound[key] = form
        messages.error(request, _("Not saved: see the form below."))
    can_manage = procedure_rules.can_manage_contract.test(user, contract)
    can_record_breach = procedure_rules.can_record_breach.test(user, contract)
    breaches = list(contract.breaches.all())
    if can_record_breach:
        # Each breach carries its own forms, bound again after a refused post.
        for breach in breaches:
            breach.escalate_form = bound.get(("escalate", breach.pk)) or BreachEscalateForm(
                current_step=breach.escalation_step
            )
            breach.action_form = bound.get(("action", breach.pk)) or BreachActionForm()
            for action in breach.actions.all():
                if action.completed_on is None:
                    action.complete_form = (
                        bound.get(("complete-action", action.pk)) or BreachActionCompleteForm()
                    )
                    action.overdue = action.deadline is not None and action.deadline < today
    running = contract.status not in (ContractStatus.EXPIRED, ContractStatus.TERMINATED)
    context = {
        "contract": contract,
        "today": today,
        "rate_rows": contract_selectors.contract_rate_rows(contract),
        "documents": contract.documents.all(),
        "breaches": breaches,
        "events": contract.events.all(),
        "renewal": getattr(contract, "renewal_request", None),
        "can_manage": can_manage,
        "can_record_breach": can_record_breach,
        "ContractKind": ContractKind,
    }
    if can_manage:
        context["document_form"] = bound.get("document") or ContractDocumentForm()
        if contract.terminated_on is None:
            context["terminate_form"] = bound.get("terminate") or ContractTerminateForm()
    if can_record_breach and running:
        context["breach_form"] = bound.get("breach") or BreachForm()
    return render(request, "hap_contracting/contract_detail.html", context)


@login_required
def contract_document(request, pk: int, document_pk: int):
    """The signed PDF, only for users who may see the contract: never a public media URL."""
    contract = get_object_or_404(contract_selectors.contracts_visible_to(request.user), pk=pk)
    document = get_object_or_404(ContractDocument, pk=document_pk, contract=contract)
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type="application/pdf",
    )
