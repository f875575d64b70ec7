"""Payments: recorded by hand on the invoice's page, imported from a CAMT.053 bank statement,
and the statement's unmatched lines matched by hand. Payments and bank lines name invoices,
organisations and amounts, never a patient: these pages write no access log (the invoice page
does, for its lines)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hap_contracting.core import listing
from hap_contracting.core.errors import DomainError
from hap_contracting.core.money import euro

from .. import selectors as billing_selectors
from ..constants import PaymentState
from ..forms import BankEntryMatchForm, BankStatementImportForm, PaymentForm, PaymentReverseForm
from ..models import BankStatementEntry, Payment
from ..services import payments as payment_services
from .access import require_finance

# The invoice page's payment forms (the ``form`` field of its POST).
PAYMENT_ACTIONS = ("payment", "reverse")


def payment_context(invoice, bound: dict | None = None) -> dict:
    """What the invoice page shows of payments: the state, the payments and the forms."""
    bound = bound or {}
    summary = billing_selectors.invoice_payment_state(invoice)
    return {
        "payment_summary": summary,
        "payments": billing_selectors.invoice_payments(invoice),
        "payment_form": bound.get("payment") or PaymentForm(),
        "reverse_form": bound.get("reverse"),
        "reverse_payment": bound.get("reverse_payment"),
        "payable": bool(summary.payment_state),
    }


def _report_state(request, invoice) -> None:
    """What the invoice's state is after a payment; paid too much is a warning."""
    summary = billing_selectors.invoice_payment_state(invoice)
    if summary.payment_state == PaymentState.OVERPAID:
        messages.warning(
            request,
            _(
                "Payment recorded. %(amount)s more was paid than invoice %(number)s asks: "
                "refund it or settle it with the organisation."
            )
            % {"amount": euro(-summary.outstanding), "number": invoice.number},
        )
    elif summary.payment_state == PaymentState.PAID:
        messages.success(
            request, _("Payment recorded: invoice %(number)s is paid.") % {"number": invoice.number}
        )
    else:
        messages.success(
            request,
            _("Payment recorded: %(amount)s of invoice %(number)s is still open.")
            % {"amount": euro(summary.outstanding), "number": invoice.number},
        )


def invoice_payment_post(request, invoice):
    """Handle the invoice page's payment forms: (a redirect when done, or None and the bound
    forms to show with their errors)."""
    name = request.POST.get("form")
    if name == "payment":
        form = PaymentForm(request.POST)
        if form.is_valid():
            try:
                payment_services.payment_record(
                    invoice=invoice, by=request.user, **form.service_arguments()
                )
            except DomainError as error:
                form.add_domain_error(error)
            else:
                _report_state(request, invoice)
                return redirect("billing:invoice_detail", pk=invoice.pk), {}
        messages.error(request, _("Not saved: see the form below."))
        return None, {"payment": form}
    form = PaymentReverseForm(request.POST)
    chosen = form.data.get(form.add_prefix("payment"), "")
    payment = (
        Payment.objects.filter(invoice=invoice, pk=int(chosen)).first()
        if chosen.isdigit() and len(chosen) < 10
        else None
    )
    if payment is None:
        raise Http404
    if form.is_valid():
        try:
            payment_services.payment_reverse(
                payment=payment, by=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("The payment was reversed."))
            return redirect("billing:invoice_detail", pk=invoice.pk), {}
    messages.error(request, " ".join(form.non_field_errors()) or _("Not saved: see the form."))
    return None, {"reverse": form, "reverse_payment": payment}


@login_required
@require_http_methods(["GET", "POST"])
def bank_import_list(request):
    require_finance(request.user)
    form = BankStatementImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            statement_import = payment_services.bank_statement_import(
                by=request.user, **form.service_arguments()
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("The statement was imported."))
            return redirect("billing:bank_import_detail", pk=statement_import.pk)
    page = Paginator(billing_selectors.bank_imports(), listing.PAGE_SIZE).get_page(
        request.GET.get(listing.PAGE_PARAMETER)
    )
    return render(request, "billing/bank_import_list.html", {"form": form, "page_obj": page})


@login_required
@require_http_methods(["GET", "POST"])
def bank_import_detail(request, pk: int):
    require_finance(request.user)
    statement_import = billing_selectors.bank_import_for_user(request.user, pk)
    open_invoices = list(billing_selectors.invoices_open_for_payment())
    choices = [
        (
            invoice.pk,
            f"{invoice.number} · {invoice.organisation.name} · "
            + _("open %(amount)s") % {"amount": euro(invoice.outstanding)},
        )
        for invoice in open_invoices
    ]
    bound = None
    if request.method == "POST":
        bound = BankEntryMatchForm(
            request.POST,
            invoice_choices=choices,
            auto_id=f"id_%s_{request.POST.get('entry', '')[:12]}",
        )
        if bound.is_valid():
            entry = BankStatementEntry.objects.filter(
                statement_import=statement_import, pk=bound.cleaned_data["entry"]
            ).first()
            invoice = next(
                (i for i in open_invoices if i.pk == bound.cleaned_data["invoice"]), None
            )
            if entry is None or invoice is None:
                raise Http404
            try:
                payment_services.bank_entry_match(entry=entry, invoice=invoice, by=request.user)
            except DomainError as error:
                bound.add_domain_error(error)
            else:
                messages.success(
                    request,
                    _("Recorded as a payment of invoice %(number)s.") % {"number": invoice.number},
                )
                return redirect("billing:bank_import_detail", pk=statement_import.pk)
        messages.error(request, " ".join(bound.non_field_errors()) or _("Not saved: see below."))
    entries = list(billing_selectors.bank_import_entries(statement_import))
    unmatched = [entry for entry in entries if entry.invoice_id is None]
    suggestions = billing_selectors.invoices_for_payment_references(
        {entry.remittance for entry in unmatched}
    )
    rows = []
    for entry in unmatched:
        suggested = suggestions.get(entry.remittance)
        posted = bound is not None and bound.data.get("entry") == str(entry.pk)
        form = (
            bound
            if posted
            else BankEntryMatchForm(
                initial={"entry": entry.pk, "invoice": suggested.pk if suggested else ""},
                invoice_choices=choices,
                auto_id=f"id_%s_{entry.pk}",
            )
        )
        rows.append({"entry": entry, "form": form, "suggested": suggested})
    return render(
        request,
        "billing/bank_import_detail.html",
        {
            "statement_import": statement_import,
            "matched": [entry for entry in entries if entry.invoice_id is not None],
            "unmatched": rows,
        },
    )
