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
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from hap_contracting.core import listing
from hap_contracting.core.charts import monthly_counts_chart
from hap_contracting.core.errors import DomainError
from hap_contracting.core.forms import confirmation_needed, going_back
from hap_contracting.procedure.actions import ACTIONS, action_blockers
from hap_contracting.procedure.selectors.admission import admission_request_for_user
from hap_contracting.tariffs.selectors import acts

from . import rules as contract_rules
from . import selectors as contract_selectors
from .constants import ContractKind, ContractStatus
from .exports import CONTRACT_COLUMNS, CONTRACT_EXPORT_ANNOTATIONS
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


def _listed_contracts(request, today):
    """The register's rows the list shows (all pages), for the page and for its export."""
    if not request.user.role_names:
        raise PermissionDenied
    filters = ContractFilterForm(request.GET or None, user=request.user)
    chosen = filters.filters(sort=request.GET.get(listing.SORT_PARAMETER, ""))
    contracts = contract_selectors.contract_register(request.user, today=today, filters=chosen)
    return filters, chosen, contracts


@login_required
@require_GET
def contract_list(request):
    today = timezone.localdate()
    filters, chosen, contracts = _listed_contracts(request, today)
    page = Paginator(contracts, listing.PAGE_SIZE).get_page(request.GET.get(listing.PAGE_PARAMETER))
    chart = monthly_counts_chart(
        contract_selectors.contracts_ending_per_month(
            request.user, today=today, region_id=chosen.region_id
        )
    )
    return render(
        request,
        "contracts/contract_list.html",
        {
            **listing.list_context(request, contract_selectors.CONTRACT_SORTS, page),
            "filters": filters,
            "chart": chart,
            "today": today,
        },
    )


@login_required
@require_GET
def contract_list_export(request, fmt: str):
    """The register as CSV or XLSX: no patient data, so not in the access log."""
    _filters, _chosen, contracts = _listed_contracts(request, timezone.localdate())
    return listing.export_response(
        fmt,
        queryset=contracts,
        columns=CONTRACT_COLUMNS,
        annotations=CONTRACT_EXPORT_ANNOTATIONS,
        filename="contracten",
        title=_("Contracts"),
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


# What the success message of each form says: what happened, and what comes next.
CONTRACT_FORM_DONE = {
    "document": gettext_lazy("The document is added to contract %(reference)s."),
    "terminate": gettext_lazy("The termination of contract %(reference)s is recorded."),
    "breach": gettext_lazy(
        "The breach of contract %(reference)s is recorded. Next: agree an improvement action "
        "with the care organisation."
    ),
    "escalate": gettext_lazy("The breach of contract %(reference)s is escalated to the next step."),
    "action": gettext_lazy(
        "The improvement action on contract %(reference)s is recorded. Record when it is done."
    ),
    "complete-action": gettext_lazy("The improvement action on contract %(reference)s is done."),
}


def _ids(*key) -> str:
    """The ``auto_id`` of one form of the contract page: the page holds several forms with a field
    of the same name (a note, a description), and a label or the error summary's link must point
    at the field of its own form."""
    return "id_" + "_".join(str(part) for part in key) + "_%s"


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
            form = BreachEscalateForm(
                post, current_step=breach.escalation_step, auto_id=_ids(name, breach.pk)
            )
            service = partial(breach_services.breach_escalate, breach=breach, by=user)
        else:
            form = BreachActionForm(post, auto_id=_ids(name, breach.pk))
            service = partial(breach_services.breach_action_record, breach=breach, by=user)
        return (name, breach.pk), form, service
    if name == "complete-action":
        actions = [action for breach in breaches for action in breach.actions.all()]
        action = next((a for a in actions if str(a.pk) == post.get("action")), None)
        if action is None:
            raise Http404
        form = BreachActionCompleteForm(post, auto_id=_ids(name, action.pk))
        service = partial(breach_services.breach_action_complete, action=action, by=user)
        return (name, action.pk), form, service
    form, service = {
        "document": (
            ContractDocumentForm(post, request.FILES, auto_id=_ids(name)),
            contract_services.contract_document_upload,
        ),
        "terminate": (
            ContractTerminateForm(post, auto_id=_ids(name)),
            contract_services.contract_terminate,
        ),
        "breach": (BreachForm(post, auto_id=_ids(name)), breach_services.breach_record),
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
                messages.success(
                    request, CONTRACT_FORM_DONE[name] % {"reference": contract.reference}
                )
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
                current_step=breach.escalation_step, auto_id=_ids("escalate", breach.pk)
            )
            breach.action_form = bound.get(("action", breach.pk)) or BreachActionForm(
                auto_id=_ids("action", breach.pk)
            )
            for action in breach.actions.all():
                if action.completed_on is None:
                    action.complete_form = bound.get(
                        ("complete-action", action.pk)
                    ) or BreachActionCompleteForm(auto_id=_ids("complete-action", action.pk))
                    action.overdue = action.deadline is not None and action.deadline < today
    running = contract.status not in (ContractStatus.EXPIRED, ContractStatus.TERMINATED)
    context = {
        "contract": contract,
        "today": today,
        "rate_rows": contract_selectors.contract_rate_rows(contract),
        "documents": contract.documents.all(),
        "breaches": breaches,
        "events": contract.events.all(),
        "renewal": contract.renewal,
        "can_manage": can_manage,
        "can_record_breach": can_record_breach,
        "ContractKind": ContractKind,
    }
    if can_manage:
        context["document_form"] = bound.get("document") or ContractDocumentForm(
            auto_id=_ids("document")
        )
        if contract.terminated_on is None:
            context["terminate_form"] = bound.get("terminate") or ContractTerminateForm(
                auto_id=_ids("terminate")
            )
    if can_record_breach and running:
        context["breach_form"] = bound.get("breach") or BreachForm(auto_id=_ids("breach"))
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
