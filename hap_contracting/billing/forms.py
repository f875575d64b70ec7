"""Forms of the billing pages; the services decide, a DomainError lands on the field it names."""

import datetime
from decimal import Decimal

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.forms import Confirmation, DateInput, MonthField, ServiceForm
from hap_contracting.core.money import euro
from hap_contracting.core.text import TextLimit
from hap_contracting.organisations.models import CareLocation, CareOrganisation
from hap_contracting.organisations.selectors import regions_visible_to

from .constants import OVERDUE, InvoiceKind, InvoiceState, NotificationChannel, PaymentState
from .selectors import InvestigationFilters, InvoiceFilters

# --- Claims import --------------------------------------------------------------------------


class ClaimImportForm(ServiceForm):
    submit_label = _("Upload and import")

    file = forms.FileField(
        label=_("File of refused claims"),
        help_text=_("CSV (separated by ; or ,) or XLSX, with the columns below."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def service_arguments(self) -> dict:
        return {"uploaded_file": self.cleaned_data["file"]}


# --- Investigation --------------------------------------------------------------------------


class InvestigationLocationForm(ServiceForm):
    submit_label = _("Record location and organisation")

    location = forms.ModelChoiceField(
        label=_("Care location at this address"), queryset=CareLocation.objects.none()
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation that runs it"),
        queryset=CareOrganisation.objects.all(),
        required=False,
        help_text=_("Needed when the location has no organisation yet."),
    )

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations
        self.fields["location"].label_from_instance = lambda location: (
            f"{location.name} ({location.organisation.name if location.organisation else '?'})"
        )


class InvestigationFilterForm(forms.Form):
    """Filters of the investigation list (GET). ``region`` only for users who see all regions;
    ``open=1`` is the link "only open investigations" too."""

    marks_optional_fields = False  # a filter is optional by nature

    open = forms.BooleanField(label=_("Only open investigations"), required=False)
    region = forms.ModelChoiceField(
        label=_("Region"), queryset=None, required=False, empty_label=_("All regions")
    )
    opened_from = forms.DateField(label=_("Opened from"), required=False, widget=DateInput())
    opened_until = forms.DateField(label=_("Opened until"), required=False, widget=DateInput())
    q = forms.CharField(
        label=_("Postcode, location or organisation"), max_length=100, required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.sees_all_regions:
            self.fields["region"].queryset = regions_visible_to(user).order_by("name")
        else:
            del self.fields["region"]

    def filters(self, *, sort: str = "") -> InvestigationFilters:
        """The selector's filters and the sort (kept when the form is not valid)."""
        if not self.is_valid():
            return InvestigationFilters(sort=sort)
        data = self.cleaned_data
        region = data.get("region")
        return InvestigationFilters(
            open_only=data["open"],
            region_id=region.pk if region else None,
            opened_from=data["opened_from"],
            opened_until=data["opened_until"],
            search=data["q"].strip(),
            sort=sort,
        )


class InvestigationNotificationForm(ServiceForm):
    submit_label = _("Record notification")

    notified_on = forms.DateField(label=_("Organisation told on"), widget=DateInput())
    notified_how = forms.ChoiceField(label=_("How"), choices=NotificationChannel.choices)
    notes = forms.CharField(
        label=_("Notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=TextLimit.NOTES,
        help_text=_("Who was told, by whom; no patient data."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notified_on"].initial = timezone.localdate()


# --- Invoices -------------------------------------------------------------------------------


class InvoiceFilterForm(forms.Form):
    marks_optional_fields = False  # a filter is optional by nature

    month = MonthField(label=_("Month"), required=False)
    state = forms.ChoiceField(
        label=_("State"), choices=[("", _("All")), *InvoiceState.choices], required=False
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("All")), *InvoiceKind.choices], required=False
    )
    q = forms.CharField(label=_("Organisation or number"), max_length=100, required=False)
    payment = forms.ChoiceField(
        label=_("Payment"),
        choices=[("", _("All")), *PaymentState.choices, (OVERDUE, _("Overdue"))],
        required=False,
    )

    def filters(self, *, sort: str = "") -> InvoiceFilters:
        """The selector's filters and the sort (kept when the form is not valid)."""
        if not self.is_valid():
            return InvoiceFilters(sort=sort)
        data = self.cleaned_data
        return InvoiceFilters(
            month=data["month"],
            state=data["state"],
            kind=data["kind"],
            search=data["q"].strip(),
            sort=sort,
            payment_state=data["payment"],
        )


class InvoiceGenerateForm(ServiceForm):
    submit_label = _("Make draft invoices")

    period = MonthField(
        label=_("Month to bill"),
        help_text=_(
            "Making a month again rebuilds its drafts from today's contracts and tariffs; "
            "approved and sent invoices stay as they are."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
        self.fields["period"].initial = f"{last_month:%Y-%m}"


# The invoice's steps that can't be undone, and what follows from each: confirmed first.
IRREVERSIBLE_INVOICE_ACTIONS = {
    "approve": _(
        "The invoice gets its number and can no longer be changed or deleted; the Wlz locations "
        "with treatment it bills go on the triage filter list. A mistake is then corrected "
        "with a credit note. Choose Back to leave it a draft."
    ),
    "send": _(
        "The invoice is e-mailed with its PDF and e-invoice to the organisation's invoice "
        "address, and is final from then on: it is never changed again, only corrected by a "
        "credit note. Choose Back if it should not go out yet."
    ),
    "resend": _(
        "The same invoice is e-mailed again, with its PDF and e-invoice, to the organisation's "
        "invoice address as it is now. Choose Back to send nothing."
    ),
}


class InvoiceActionForm(ServiceForm):
    """Approve, send or delete a draft: a button, nothing to fill in. Approving and sending are
    confirmed first (``IRREVERSIBLE_INVOICE_ACTIONS``)."""

    def __init__(self, *args, label, action="", invoice=None, **kwargs):
        self.submit_label = label
        self.action, self.invoice = action, invoice
        super().__init__(*args, **kwargs)

    def confirmation(self) -> Confirmation | None:
        consequence = IRREVERSIBLE_INVOICE_ACTIONS.get(self.action)
        if consequence is None or self.invoice is None:
            return None
        invoice = self.invoice
        return Confirmation(
            title=gettext("Confirm: %(action)s") % {"action": self.submit_label},
            summary=(
                (gettext("Invoice"), f"{invoice.get_kind_display()} {invoice}"),
                (gettext("Organisation"), invoice.organisation.name),
                (gettext("Month"), formats.date_format(invoice.period, "F Y")),
                (gettext("Total"), euro(invoice.total)),
                *self._addressee(),
            ),
            consequence=str(consequence),
        )

    def _addressee(self) -> tuple:
        if self.action not in ("send", "resend"):
            return ()
        address = self.invoice.organisation.invoice_email or gettext("(none: enter it first)")
        return ((gettext("To"), address),)


class InvoiceApproveManyForm(ServiceForm):
    """Several drafts approved at once from the invoice list, confirmed first: the confirmation
    lists each with its total. The service approves all or none (four eyes for each)."""

    submit_label = _("Approve the chosen drafts")

    invoices = forms.ModelMultipleChoiceField(
        label=_("Draft invoices"),
        queryset=None,
        error_messages={
            "required": _("Choose the draft invoices to approve."),
            "invalid_choice": _(
                "One of the chosen invoices is no longer a draft (approved or removed meanwhile); "
                "nothing was approved."
            ),
        },
    )

    def __init__(self, *args, drafts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoices"].queryset = drafts

    def confirmation(self) -> Confirmation | None:
        invoices = sorted(self.cleaned_data["invoices"], key=lambda invoice: invoice.pk)
        total = sum((invoice.total for invoice in invoices), Decimal("0.00"))
        return Confirmation(
            title=ngettext(
                "Confirm: approve %(count)s draft invoice",
                "Confirm: approve %(count)s draft invoices",
                len(invoices),
            )
            % {"count": len(invoices)},
            summary=(
                *(
                    (
                        f"{invoice.organisation.name}, "
                        f"{formats.date_format(invoice.period, 'F Y')}",
                        euro(invoice.total),
                    )
                    for invoice in invoices
                ),
                (gettext("Together"), euro(total)),
            ),
            consequence=gettext(
                "Each invoice gets its number and can no longer be changed or deleted; the Wlz "
                "locations with treatment they bill go on the triage filter list. If one of them "
                "can't be approved, none is. Choose Back to leave them drafts."
            ),
            confirm_label=gettext("Approve the chosen drafts"),
        )

    def service_arguments(self) -> dict:
        return {"invoice_ids": [invoice.pk for invoice in self.cleaned_data["invoices"]]}


class InvoiceCreditForm(ServiceForm):
    submit_label = _("Make credit note")

    reason = forms.CharField(
        label=_("Reason for the credit note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=TextLimit.REASON,
        help_text=_(
            "Once the credit note is approved, making the invoices of this month again bills "
            "the claims that are still chargeable on a new invoice (for example after a tariff "
            "or address correction)."
        ),
    )


# --- Payments -------------------------------------------------------------------------------


class PaymentForm(ServiceForm):
    submit_label = _("Record payment")

    amount = forms.DecimalField(
        label=_("Amount (€)"), max_digits=12, decimal_places=2, localize=True
    )
    paid_on = forms.DateField(label=_("Payment date"), widget=DateInput())
    reference = forms.CharField(
        label=_("Reference"),
        max_length=140,
        help_text=_("As on the bank statement, for example the payer's description."),
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=TextLimit.REMARK,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="payment", **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()


class PaymentReverseForm(ServiceForm):
    submit_label = _("Reverse payment")

    payment = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    reason = forms.CharField(
        label=_("Reason for the reversal"), max_length=TextLimit.REMARK, required=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="reverse", **kwargs)


class BankStatementImportForm(ServiceForm):
    submit_label = _("Import statement")

    file = forms.FileField(
        label=_("Bank statement (CAMT.053)"),
        help_text=_("The XML day statement of the bank (camt.053), as the bank exports it."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml"}),
    )

    def service_arguments(self) -> dict:
        return {"uploaded_file": self.cleaned_data["file"]}


class BankEntryMatchForm(ServiceForm):
    submit_label = _("Record as payment")

    entry = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    invoice = forms.TypedChoiceField(label=_("Invoice"), coerce=int, choices=())

    def __init__(self, *args, invoice_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [("", _("Choose the invoice")), *invoice_choices]
