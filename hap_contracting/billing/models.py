"""Billing of care given without a contract to Wlz-with-treatment locations (seed 004, 7.2 point 2):
claims the insurer refused, their investigation, invoices at twice the tariff plus
administrative costs, and credit notes. Every read of claim data is in the access log (the
audit app)."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from hap_contracting.core.choices import ChoiceLabelsMixin
from hap_contracting.core.periods import PeriodQuerySet, period_not_reversed
from hap_contracting.core.text import LimitedTextField, TextLimit, length_checks
from hap_contracting.core.validators import validate_kvk_number, validate_postcode

from . import rules as billing_rules
from .constants import (
    ClaimImportStatus,
    DeliveryStatus,
    InvoiceKind,
    InvoiceState,
    NotificationChannel,
    PaymentReminderKind,
    PaymentSource,
    PaymentState,
)


class AdministrativeCost(models.Model):
    """The administrative costs added once per invoice, for a period (seed 004, 7.2)."""

    amount = models.DecimalField(_("amount"), max_digits=9, decimal_places=2)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = _("administrative costs")
        verbose_name_plural = _("administrative costs")
        constraints = [
            period_not_reversed("administrative_cost_period_not_reversed"),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="administrative_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"€ {self.amount} ({self.valid_from})"


def claim_import_path(instance: "ClaimImport", filename: str) -> str:
    return f"claim-imports/{instance.sha256[:2]}/{instance.sha256}"


class BillableReasonCode(models.Model):
    """An insurer's reason code that means "Wlz indication with treatment": a refused claim with
    this code is billed; a claim with any other code is imported but not billed. Finance keeps
    the list in the admin (seeded with example codes, marked as examples)."""

    code = models.CharField(_("reason code"), max_length=20, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_example = models.BooleanField(
        _("example"),
        default=False,
        help_text=_("An example code from the installation; replace it with the insurer's own."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("billable reason code")
        verbose_name_plural = _("billable reason codes")

    def __str__(self) -> str:
        return self.code


class ClaimImport(models.Model):
    """A file of refused claims uploaded by finance, imported whole or not at all."""

    file = models.FileField(_("file"), upload_to=claim_import_path)
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ClaimImportStatus.choices,
        default=ClaimImportStatus.PENDING,
    )
    # Counted before the lines are checked, for the progress bar (empty: not known yet).
    total_lines = models.PositiveIntegerField(_("lines in the file"), null=True, blank=True)
    processed_lines = models.PositiveIntegerField(_("lines processed"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    imported_count = models.PositiveIntegerField(_("claims imported"), default=0)
    message = models.TextField(_("message"), blank=True)
    ignored_columns = models.CharField(
        _("columns not read"),
        max_length=500,
        blank=True,
        help_text=_("Columns of the file beyond the expected ones: not read, not stored."),
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("claims import")
        verbose_name_plural = _("claims imports")
        constraints = [
            # The same file is imported once (a rejected one may be uploaded again).
            models.UniqueConstraint(
                fields=["sha256"],
                condition=Q(status="imported"),
                name="claim_import_file_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"


class ClaimImportError(models.Model):
    """A bad line of an import: line number, column and reason, never the value itself (it may
    hold patient data)."""

    claim_import = models.ForeignKey(ClaimImport, on_delete=models.CASCADE, related_name="errors")
    line_number = models.PositiveIntegerField(_("line"))
    column = models.CharField(_("column"), max_length=40, blank=True)
    reason = models.CharField(_("reason"), max_length=300)

    class Meta:
        ordering = ["line_number", "pk"]
        verbose_name = _("import error")
        verbose_name_plural = _("import errors")

    def __str__(self) -> str:
        return f"{self.line_number} {self.column}: {self.reason}"


class Claim(models.Model):
    """Care given at the post that the insurer refused because of a Wlz indication with
    treatment. The BSN, when the file has one, is kept only as a keyed hash."""

    claim_import = models.ForeignKey(ClaimImport, on_delete=models.PROTECT, related_name="claims")
    line_number = models.PositiveIntegerField(_("line"))
    care_at = models.DateTimeField(_("date and time of care"))
    care_on = models.DateField(_("date of care"))
    post = models.ForeignKey(
        "organisations.HapPost", on_delete=models.PROTECT, related_name="claims"
    )
    act = models.ForeignKey("tariffs.Act", on_delete=models.PROTECT, related_name="claims")
    patient_reference = models.CharField(_("patient reference"), max_length=40)
    bsn_hash = models.CharField(max_length=64, blank=True)
    postcode = models.CharField(_("postcode"), max_length=7)
    house_number = models.PositiveIntegerField(_("house number"))
    house_number_addition = models.CharField(_("addition"), max_length=6, blank=True)
    reason_code = models.CharField(_("insurer's reason"), max_length=20)
    location = models.ForeignKey(
        "organisations.CareLocation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
    )
    # A line repeating a claim imported before: kept, so the import accounts for every line,
    # and never billed (the earlier claim is).
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("duplicate of"),
    )

    class Meta:
        ordering = ["care_at", "pk"]
        verbose_name = _("refused claim")
        verbose_name_plural = _("refused claims")
        constraints = [
            # One act for one patient at one moment at one post is one claim: importing the
            # same claim twice bills nothing twice.
            models.UniqueConstraint(
                fields=["post", "act", "care_at", "patient_reference"],
                condition=Q(duplicate_of__isnull=True),
                name="claim_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["postcode", "house_number", "house_number_addition"],
                name="claim_address_idx",
            ),
            models.Index(fields=["care_on"], name="claim_care_on_idx"),
        ]

    def __str__(self) -> str:
        return f"D-{self.pk:07d}"

    @property
    def reference(self) -> str:
        """What invoices and lists show instead of anything about the patient."""
        return f"D-{self.pk:07d}"


class ClaimStagingLine(models.Model):
    """A checked line of an import in progress; moved into ``Claim`` when the whole file is
    clean, deleted otherwise."""

    claim_import = models.ForeignKey(ClaimImport, on_delete=models.CASCADE, related_name="+")
    line_number = models.PositiveIntegerField()
    care_at = models.DateTimeField()
    care_on = models.DateField()
    post = models.ForeignKey("organisations.HapPost", on_delete=models.CASCADE, related_name="+")
    act = models.ForeignKey("tariffs.Act", on_delete=models.CASCADE, related_name="+")
    patient_reference = models.CharField(max_length=40)
    bsn_hash = models.CharField(max_length=64, blank=True)
    postcode = models.CharField(max_length=7)
    house_number = models.PositiveIntegerField()
    house_number_addition = models.CharField(max_length=6, blank=True)
    reason_code = models.CharField(max_length=20)
    duplicate_of = models.ForeignKey(
        Claim, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["claim_import", "line_number"], name="staging_line_idx")]

    def __str__(self) -> str:
        return f"{self.claim_import_id}:{self.line_number}"


class AddressInvestigation(models.Model):
    """An address where refused care was given that is not a known location of a known
    organisation: the post's location manager finds out whose it is and tells them that this
    care will no longer be given (seed 004, 7.2)."""

    post = models.ForeignKey(
        "organisations.HapPost", on_delete=models.PROTECT, related_name="investigations"
    )
    postcode = models.CharField(_("postcode"), max_length=7)
    house_number = models.PositiveIntegerField(_("house number"))
    house_number_addition = models.CharField(_("addition"), max_length=6, blank=True)
    location = models.ForeignKey(
        "organisations.CareLocation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="investigations",
    )
    opened_on = models.DateField(_("opened on"))
    resolved_at = models.DateTimeField(_("organisation recorded at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    notified_on = models.DateField(_("organisation told on"), null=True, blank=True)
    notified_how = models.CharField(
        _("told by"), max_length=12, choices=NotificationChannel.choices, blank=True
    )
    notes = LimitedTextField(_("notes"), max_length=TextLimit.NOTES, blank=True)

    class Meta:
        ordering = ["opened_on", "pk"]
        verbose_name = _("address investigation")
        verbose_name_plural = _("address investigations")
        constraints = [
            *length_checks(notes=TextLimit.NOTES),
            models.UniqueConstraint(
                fields=["postcode", "house_number", "house_number_addition"],
                name="investigation_one_per_address",
            ),
        ]

    def __str__(self) -> str:
        addition = f"-{self.house_number_addition}" if self.house_number_addition else ""
        return f"{self.postcode} {self.house_number}{addition}"


# The text the invoices carry when the administrator has not written another: data on a Dutch
# document, so in Dutch.
DEFAULT_VAT_EXEMPTION_TEXT = (
    "Vrijgesteld van btw: medische zorg door een huisarts (artikel 11, lid 1, onderdeel g, "
    "Wet op de omzetbelasting 1968)."
)
INVOICE_SENDER_PK = 1


class InvoiceSender(models.Model):
    """The cooperative's details on every invoice and credit note, and in the e-invoice: one
    row, kept by an administrator in the admin (``services.sender.invoice_sender_save`` checks
    the IBAN, BIC and VAT number)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=INVOICE_SENDER_PK)
    legal_name = models.CharField(_("legal name"), max_length=200)
    visiting_address = models.CharField(
        _("visiting address"), max_length=200, help_text=_("Street and house number.")
    )
    visiting_postcode = models.CharField(
        _("visiting postcode"), max_length=7, validators=[validate_postcode]
    )
    visiting_city = models.CharField(_("visiting city"), max_length=100)
    postal_address = models.CharField(
        _("postal address"),
        max_length=200,
        blank=True,
        help_text=_("Street and house number, or PO box. Empty: the visiting address."),
    )
    postal_postcode = models.CharField(
        _("postal postcode"), max_length=7, blank=True, validators=[validate_postcode]
    )
    postal_city = models.CharField(_("postal city"), max_length=100, blank=True)
    kvk_number = models.CharField(_("KvK number"), max_length=8, validators=[validate_kvk_number])
    vat_number = models.CharField(
        _("VAT number"),
        max_length=14,
        help_text=_(
            "The VAT identification number (NL000000000B01). The e-invoice needs it, also when "
            "the care is exempt from VAT."
        ),
    )
    vat_exemption_text = models.TextField(
        _("VAT exemption text"),
        default=DEFAULT_VAT_EXEMPTION_TEXT,
        help_text=_("Why the invoices carry no VAT; printed on every invoice."),
    )
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11)
    contact_name = models.CharField(
        _("contact for questions"),
        max_length=200,
        help_text=_("A person or department, e.g. Financiële administratie."),
    )
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact telephone"), max_length=20, blank=True)
    logo = models.ImageField(
        _("logo"),
        upload_to="invoice-sender/",
        blank=True,
        help_text=_("PNG or JPEG, printed at the top of the invoice."),
    )

    class Meta:
        verbose_name = _("invoice sender")
        verbose_name_plural = _("invoice sender")
        constraints = [
            models.CheckConstraint(
                condition=Q(id=INVOICE_SENDER_PK), name="invoice_sender_single_row"
            )
        ]

    def __str__(self) -> str:
        return self.legal_name


class InvoiceNumberSequence(models.Model):
    """The last invoice number given out per year; locked while a number is taken, so numbers
    are gapless and unique even when two people approve at once."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("invoice number sequence")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


def _finance_bills(instance, user) -> bool:
    return billing_rules.can_bill.test(user)


def _finance_approves(instance, user) -> bool:
    """Four eyes: finance, but not who made the invoice (``rules.can_approve_invoice``)."""
    return billing_rules.can_approve_invoice.test(user, instance)


def _is_an_uncredited_invoice(instance) -> bool:
    return instance.kind == InvoiceKind.INVOICE and not instance.credit_notes.exists()


class Invoice(ChoiceLabelsMixin, models.Model):
    """An invoice (or credit note) to one organisation for one month of uncontracted care."""

    organisation = models.ForeignKey(
        "organisations.CareOrganisation", on_delete=models.PROTECT, related_name="invoices"
    )
    period = models.DateField(_("month"), help_text=_("First day of the month billed."))
    kind = models.CharField(
        _("kind"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("corrects invoice"),
    )
    state = FSMField(
        _("state"),
        max_length=10,
        choices=InvoiceState.choices,
        default=InvoiceState.DRAFT,
        protected=True,
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    number = models.CharField(_("invoice number"), max_length=12, blank=True)
    lines_total = models.DecimalField(_("acts"), max_digits=12, decimal_places=2, default=0)
    administrative_costs = models.DecimalField(
        _("administrative costs"), max_digits=9, decimal_places=2, default=0
    )
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2, default=0)
    reason = LimitedTextField(_("reason"), max_length=TextLimit.REASON, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Who made it: generated (or rebuilt) the draft, or made the credit note. Four eyes: that
    # user does not approve it.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("made by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Fixed at approval, with the number: the date, the date it is due (the payment term
    # after it) and the reference to pay it with.
    invoice_date = models.DateField(_("invoice date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=35, blank=True)
    # The sender's and recipient's details as they were at approval (``selectors.invoice_parties``):
    # a changed IBAN or address does not change an invoice that went out.
    issued_parties = models.JSONField(default=dict, blank=True, editable=False)
    # 0 for the first invoice of an organisation's month; 1, 2, ... for the invoice that bills
    # the month again after the one before was credited.
    billing_round = models.PositiveSmallIntegerField(_("billing round"), default=0)
    # 0 for the round's invoice; 1, 2, ... for a supplementary invoice: the claims that arrived
    # for the month after the round's invoice was approved, on an invoice of their own.
    supplement = models.PositiveSmallIntegerField(_("supplementary invoice"), default=0)

    class Meta:
        ordering = ["-period", "organisation__name", "pk"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            *length_checks(reason=TextLimit.REASON),
            models.UniqueConstraint(fields=["year", "sequence"], name="invoice_number_unique"),
            # One invoice per organisation per month, round and supplement; credit notes are
            # separate.
            models.UniqueConstraint(
                fields=["organisation", "period", "billing_round", "supplement"],
                condition=Q(kind="invoice"),
                name="invoice_one_per_organisation_month_round",
            ),
        ]
        triggers = [
            # A sent invoice is never changed or deleted; it is corrected by a credit note.
            pgtrigger.Protect(
                name="invoice_sent_is_final",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__state="sent"),
            )
        ]

    def __str__(self) -> str:
        return self.number or _("draft %(pk)s") % {"pk": self.pk}

    @property
    def payment_state_display(self) -> str:
        """The payment state that ``selectors.with_payment_state`` annotated, as users read it
        (in the active language; empty for drafts and credit notes)."""
        state = getattr(self, "payment_state", "")
        return str(PaymentState(state).label) if state else ""

    # What finance may do with an invoice now: the transitions below (``custom["action"]`` names
    # the page's form), available by state, role and condition. The services take each step.

    @transition(
        field=state,
        source=InvoiceState.DRAFT,
        target=InvoiceState.APPROVED,
        permission=_finance_approves,
        custom={"action": "approve", "label": _("Approve")},
    )
    def approve(self):
        """A number is given and the billed locations go on the triage filter list."""

    @transition(
        field=state,
        source=InvoiceState.DRAFT,
        target=InvoiceState.DRAFT,
        permission=_finance_bills,
        custom={"action": "delete", "label": _("Delete draft")},
    )
    def discard(self):
        """Only a draft is deleted (the service removes it); a sent invoice is credited."""

    @transition(
        field=state,
        source=InvoiceState.APPROVED,
        target=InvoiceState.SENT,
        permission=_finance_bills,
        custom={"action": "send", "label": _("Send")},
    )
    def send(self):
        """E-mailed to the organisation's invoice address after the step commits
        (``InvoiceDelivery``)."""

    @transition(
        field=state,
        source=InvoiceState.SENT,
        target=InvoiceState.SENT,
        permission=_finance_bills,
        custom={"action": "resend", "label": _("Send again")},
    )
    def resend(self):
        """The same documents e-mailed again (a new ``InvoiceDelivery``); the invoice itself is
        not changed."""

    @transition(
        field=state,
        source=InvoiceState.SENT,
        target=InvoiceState.SENT,
        permission=_finance_bills,
        conditions=[_is_an_uncredited_invoice],
        custom={"action": "credit", "label": _("Make credit note")},
    )
    def credit(self):
        """A sent invoice is never changed: a credit note with the opposite amounts corrects it
        (once)."""


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="invoice_lines")
    location = models.ForeignKey(
        "organisations.CareLocation", on_delete=models.PROTECT, related_name="+"
    )
    act = models.ForeignKey("tariffs.Act", on_delete=models.PROTECT, related_name="+")
    care_on = models.DateField(_("date of care"))
    tariff = models.DecimalField(_("insurer tariff"), max_digits=9, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    is_credit = models.BooleanField(default=False)
    # How many times the claim was billed and credited before this line.
    billing_round = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["care_on", "pk"]
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        constraints = [
            # A claim is charged once per round: again only after a credit note reversed the
            # charge before; a credit note line refers to the claim it reverses.
            models.UniqueConstraint(
                fields=["claim", "billing_round"],
                condition=Q(is_credit=False),
                name="invoice_line_claim_once_per_round",
            )
        ]

    def __str__(self) -> str:
        return f"{self.act_id} {self.care_on} € {self.amount}"


# --- Payments -------------------------------------------------------------------------------


class BankStatementImport(models.Model):
    """A CAMT.053 bank statement finance uploaded: its credit entries are kept
    (``BankStatementEntry``), the file itself is not (it holds every other transfer of the
    account too)."""

    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64)
    statement_ids = models.CharField(_("statement"), max_length=500)
    account = models.CharField(_("account"), max_length=34, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    credit_count = models.PositiveIntegerField(_("credit entries"), default=0)
    new_count = models.PositiveIntegerField(_("new entries"), default=0)
    known_count = models.PositiveIntegerField(_("entries imported before"), default=0)
    matched_count = models.PositiveIntegerField(_("matched automatically"), default=0)
    debit_count = models.PositiveIntegerField(_("debit entries ignored"), default=0)
    unbooked_count = models.PositiveIntegerField(_("entries not booked, ignored"), default=0)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("bank statement import")
        verbose_name_plural = _("bank statement imports")

    def __str__(self) -> str:
        return self.original_name


class BankStatementEntry(models.Model):
    """A credit of a bank statement (one transaction of an entry). ``key`` identifies it across
    imports (statement, account and the bank's entry reference, or a hash of the entry), so the
    same statement imported twice records nothing twice."""

    statement_import = models.ForeignKey(
        BankStatementImport, on_delete=models.PROTECT, related_name="entries"
    )
    key = models.CharField(max_length=64, unique=True)
    statement_id = models.CharField(_("statement"), max_length=35)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    booked_on = models.DateField(_("booking date"))
    remittance = models.CharField(_("description"), max_length=500, blank=True)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35, blank=True)
    debtor_name = models.CharField(_("paid by"), max_length=140, blank=True)
    debtor_account = models.CharField(_("from account"), max_length=34, blank=True)
    line_number = models.PositiveIntegerField(_("line"))

    class Meta:
        ordering = ["booked_on", "pk"]
        verbose_name = _("bank statement entry")
        verbose_name_plural = _("bank statement entries")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bank_entry_is_a_credit")
        ]

    def __str__(self) -> str:
        return f"{self.booked_on} € {self.amount}"


class Payment(models.Model):
    """Money received for an invoice: append-only history (a trigger on PostgreSQL refuses
    changes, ``core.chain``). A mistake is corrected by a reversal: a second payment with the
    opposite amount that names the one it reverses."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments", verbose_name=_("invoice")
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    paid_on = models.DateField(_("payment date"))
    reference = models.CharField(_("reference"), max_length=140)
    note = LimitedTextField(_("note"), max_length=TextLimit.REMARK, blank=True)
    source = models.CharField(
        _("source"), max_length=8, choices=PaymentSource.choices, default=PaymentSource.MANUAL
    )
    bank_entry = models.ForeignKey(
        BankStatementEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
        verbose_name=_("reverses"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["paid_on", "recorded_at", "pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            *length_checks(note=TextLimit.REMARK),
            # A payment is money in; only a reversal is negative.
            models.CheckConstraint(
                condition=Q(reverses__isnull=True, amount__gt=0)
                | Q(reverses__isnull=False, amount__lt=0),
                name="payment_positive_unless_a_reversal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.paid_on} € {self.amount}"


class InvoiceDelivery(models.Model):
    """An invoice or credit note e-mailed with its PDF and e-invoice: when, to whom, by whom.
    Append-only history (a trigger on PostgreSQL refuses changes, ``core.chain``); what became of
    the e-mail is recorded by the task that sends it, in ``InvoiceDeliveryOutcome``."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("invoice")
    )
    to = models.EmailField(_("to"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("sent by"),
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        ordering = ["sent_at", "pk"]
        verbose_name = _("invoice e-mail")
        verbose_name_plural = _("invoice e-mails")

    def __str__(self) -> str:
        return f"{self.invoice} → {self.to}"


class InvoiceDeliveryOutcome(models.Model):
    """Whether the mail server took the e-mail, recorded once by the task (append-only too): a
    second run of the task finds it and sends nothing again."""

    delivery = models.OneToOneField(
        InvoiceDelivery, on_delete=models.PROTECT, related_name="outcome"
    )
    status = models.CharField(_("status"), max_length=8, choices=DeliveryStatus.choices)
    error = models.CharField(_("error"), max_length=500, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("invoice e-mail outcome")
        verbose_name_plural = _("invoice e-mail outcomes")

    def __str__(self) -> str:
        return f"{self.delivery}: {self.get_status_display()}"


class PaymentReminder(models.Model):
    """A payment reminder of an unpaid invoice, to the organisation's invoice e-mail, or its
    listing for collection (kind ``collection``, on ``due_on``; no e-mail: a row here, since a
    sent invoice is never changed). One per invoice and kind (the unique constraint): the daily
    job inserts them with ``ON CONFLICT DO NOTHING``, so a rerun or a concurrent run schedules
    nothing twice, and the sender marks a row sent in the transaction that holds its lock."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payment_reminders")
    kind = models.CharField(_("kind"), max_length=10, choices=PaymentReminderKind.choices)
    due_on = models.DateField(_("due on"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    recipient = models.EmailField(_("sent to"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    last_error = models.CharField(_("problem"), max_length=200, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("payment reminder")
        verbose_name_plural = _("payment reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "kind"], name="payment_reminder_once_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.kind} {self.due_on}"
