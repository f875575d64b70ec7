"""The contract register's pages, and completing contracting (which makes the contract).
Thin: reads through the selectors, writes through the services, a DomainError on the form."""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hap_contracting.core.charts import monthly_counts_chart
from hap_contracting.core.errors import DomainError
from hap_contracting.core.forms import confirmation_needed, going_back
from hap_contracting.procedure.actions import ACTIONS, action_blockers
from hap_contracting.procedure.selectors.admission import admission_request_for_user
from hap_contracting.tariffs.selectors import acts

from . import rules as contract_rules
from . import selectors as contract_selectors
from .constants import ContractKind, ContractStatus
from .forms import (
    BreachActionCompleteForm,
    BreachActionForm,
    BreachEscalateForm,
    BreachForm,
    CompleteContractingForm,
    ContractDocumentForm,
    ContractFilterForm,
    ContractTerminateForm,
)
from .services import breaches as breach_services
from .services import contracts as contract_services


@login_required
@require_http_methods(["GET", "POST"])
def complete_contracting(request, pk: int):
    """Step 5 of the procedure: the secretariat completes contracting and makes the contract."""
    admission_request = admission_request_for_user(request.user, pk)
    data = request.POST if request.method == "POST" else None
    form = CompleteContractingForm(data, admission_request=admission_request, acts=acts())
    # "Back" on the confirmation page shows the form filled in; only a confirmed POST completes.
    submitted = data is not None and not going_back(data) and form.is_valid()
    confirmation = confirmation_needed(form, data) if submitted else None
    if submitted and confirmation is None:
        try:
            contract_services.contracting_complete(
                admission_request=admission_request, by=request.user, **form.service_arguments()
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            contract = admission_request.resulting_contract
            messages.success(
                request,
                _(
                    "%(action)s: done. Contract %(reference)s is in the register; the procedure "
                    "has ended."
                )
                % {
                    "action": ACTIONS["complete-contracting"].label,
                    "reference": contract.reference,
                },
            )
            return redirect("procedure:request_detail", pk=admission_request.pk)
    return render(
        request,
        "procedure/request_action.html",
        {
            "admission_request": admission_request,
            "action": ACTIONS["complete-contracting"],
            "form": form,
            "confirmation": confirmation,
            # Before the form is filled in: what the step still waits for (the outcome).
            "step_blockers": action_blockers(
                admission_request, request.user, "complete-contracting"
            ),
        },
    )


@login_required
def contract_list(request):
    if not request.user.role_names:
        raise PermissionDenied
    today = timezone.localdate()
    filters = ContractFilterForm(request.GET or None, user=request.user)
    chosen = filters.filters()
    contracts = contract_selectors.contract_register(request.user, today=today, filters=chosen)
    page = Paginator(contracts, 50).get_page(request.GET.get("page"))
    chart = monthly_counts_chart(
        contract_selectors.contracts_ending_per_month(
            request.user, today=today, region_id=chosen.region_id
        )
    )
    return render(
        request,
        "contracts/contract_list.html",
        {"page": page, "filters": filters, "chart": chart, "today": today},
    )


# The forms of the contract page: which rule lets the user send it, and how it is built.
CONTRACT_FORMS = {
    "document": contract_rules.can_manage_contract,
    "terminate": contract_rules.can_manage_contract,
    "breach": contract_rules.can_record_breach,
    "escalate": contract_rules.can_record_breach,
    "action": contract_rules.can_record_breach,
    "complete-action": contract_rules.can_record_breach,
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
            service = partial(breach_services.breach_escalate, breach=breach, by=user)
        else:
            form = BreachActionForm(post)
            service = partial(breach_services.breach_action_record, breach=breach, by=user)
        return (name, breach.pk), form, service
    if name == "complete-action":
        actions = [action for breach in breaches for action in breach.actions.all()]
        action = next((a for a in actions if str(a.pk) == post.get("action")), None)
        if action is None:
            raise Http404
        form = BreachActionCompleteForm(post)
        service = partial(breach_services.breach_action_complete, action=action, by=user)
        return (name, action.pk), form, service
    form, service = {
        "document": (
            ContractDocumentForm(post, request.FILES),
            contract_services.contract_document_upload,
        ),
        "terminate": (ContractTerminateForm(post), contract_services.contract_terminate),
        "breach": (BreachForm(post), breach_services.breach_record),
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
                return redirect("contracts:contract_detail", pk=contract.pk)
        bound[key] = form
        messages.error(request, _("Not saved: see the form below."))
    can_manage = contract_rules.can_manage_contract.test(user, contract)
    can_record_breach = contract_rules.can_record_breach.test(user, contract)
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
    return render(request, "contracts/contract_detail.html", context)


@login_required
def contract_document(request, pk: int, document_pk: int):
    """The signed PDF, only for users who may see the contract: never a public media URL."""
    contract = get_object_or_404(contract_selectors.contracts_visible_to(request.user), pk=pk)
    document = get_object_or_404(contract_selectors.contract_documents(contract), pk=document_pk)
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type="application/pdf",
    )
