"""Choices used across the procedure: lowercase values, translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are auth groups with these names; a user belongs to one region."""

    SECRETARIAT = "secretariat", _("Regional secretariat")
    LOCATION_MANAGER = "location_manager", _("Location manager")
    PROGRAMME_MANAGER = "programme_manager", _("Programme manager elderly care")
    QUALITY_TEAM = "quality_team", _("Quality team")
    REGIONAL_COUNCIL = "regional_council", _("Regional council")
    FINANCE = "finance", _("Finance and control")
    ADMINISTRATOR = "administrator", _("Administrator")


# Roles that may see every region (DOMAIN: administrators and finance may see all).
ALL_REGION_ROLES = frozenset({Role.FINANCE, Role.ADMINISTRATOR})
# Roles that work in the Django admin.
ADMIN_SITE_ROLES = frozenset({Role.QUALITY_TEAM, Role.REGIONAL_COUNCIL, Role.ADMINISTRATOR})


class RequestState(models.TextChoices):
    RECEIVED = "received", _("Received")
    PRE_ASSESSMENT = "pre_assessment", _("Pre-assessment by location manager")
    QUALITY_REVIEW = "quality_review", _("Quality team review")
    COUNCIL_REVIEW = "council_review", _("Regional council review")
    CONTRACTING = "contracting", _("Contracting")
    CONTRACTED = "contracted", _("Contracted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATES = (
    RequestState.RECEIVED,
    RequestState.PRE_ASSESSMENT,
    RequestState.QUALITY_REVIEW,
    RequestState.COUNCIL_REVIEW,
)
TERMINAL_STATES = (RequestState.CONTRACTED, RequestState.REJECTED, RequestState.WITHDRAWN)


class RequestKind(models.TextChoices):
    NEW_ENTRANT = "new_entrant", _("New entrant")
    RENEWAL = "renewal", _("Renewal of a running contract")
    REGULARISATION = "regularisation", _("Uncontracted location where care is already given")


class AdviceStep(models.TextChoices):
    LOCATION_MANAGER = "location_manager", _("Pre-assessment advice (location manager)")
    QUALITY_TEAM = "quality_team", _("Advice of the quality team")
    REGIONAL_COUNCIL = "regional_council", _("Decision of the regional council")


class AdviceOutcome(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEGATIVE = "negative", _("Negative")
    MORE_INFORMATION = "more_information", _("Sent back for more information")


class OrganisationType(models.TextChoices):
    """Seed 000's four kinds of residential care arrangement (Wkkgz question)."""

    WLZ_INSTITUTION = "wlz_institution", _("Wlz institution (stay with treatment contracted)")
    HOUSING_WITH_CARE = "housing_with_care", _("Housing and care combined, care dominant")
    HOUSING_SEPARATE = "housing_separate", _("Housing and care separate (home-care provider)")
    PGB_INITIATIVE = "pgb_initiative", _("PGB-based initiative without zorgkantoor contract")


class CareProfile(models.IntegerChoices):
    VV1 = 1, "VV1"
    VV2 = 2, "VV2"
    VV3 = 3, "VV3"
    VV4 = 4, "VV4"
    VV5 = 5, "VV5"
    VV6 = 6, "VV6"
    VV7 = 7, "VV7"
    VV8 = 8, "VV8"
    VV9 = 9, "VV9"
    VV10 = 10, "VV10"


class ContractKind(models.TextChoices):
    WLZ_WITHOUT_TREATMENT = "wlz_without_treatment", _("Wlz without treatment")
    WLZ_WITH_TREATMENT = "wlz_with_treatment", _("Wlz with treatment")


class ContractStatus(models.TextChoices):
    """Derived from the dates and the termination, never stored (see ``contract_status``)."""

    UPCOMING = "upcoming", _("Not yet started")
    ACTIVE = "active", _("Active")
    EXPIRING = "expiring", _("Expiring")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


class EscalationStep(models.TextChoices):
    """Seed 001: the national escalation route when agreements are not kept."""

    CARE_ORGANISATION = "care_organisation", _("Reported to the care organisation")
    ZORGKANTOOR = "zorgkantoor", _("Reported to the zorgkantoor")
    RHO = "rho", _("Reported to the RHO")
    REGIONAL_TABLE = "regional_table", _("Regional table MGZ/Wlz (structural problem)")


class BreachActionKind(models.TextChoices):
    CONVERSATION = "conversation", _("Conversation with the organisation")
    WRITTEN_WARNING = "written_warning", _("Written warning with a term")
    TERMINATION = "termination", _("Termination of the contract")
    OTHER = "other", _("Other action")


class ContractEventKind(models.TextChoices):
    CREATED = "created", _("Contract created")
    DOCUMENT_UPLOADED = "document_uploaded", _("Signed document uploaded")
    BREACH_RECORDED = "breach_recorded", _("Breach recorded")
    BREACH_ESCALATED = "breach_escalated", _("Breach escalated")
    ACTION_RECORDED = "action_recorded", _("Action recorded")
    ACTION_COMPLETED = "action_completed", _("Action completed")
    TERMINATED = "terminated", _("Contract terminated")
    RENEWAL_OPENED = "renewal_opened", _("Renewal request opened")


class ReminderKind(models.TextChoices):
    RENEWAL_OPENED = "renewal_opened", _("Renewal request opened")
    RENEWAL_DUE = "renewal_due", _("Renewal still open before the contract ends")
    RENEWAL_LAPSED = "renewal_lapsed", _("Contract lapsed with its renewal still open")
    COMPLETION_DUE = "completion_due", _("Completion deadline approaching")
    COMPLETION_OVERDUE = "completion_overdue", _("Completion deadline passed")
    GRACE_ENDING = "grace_ending", _("Grace period ending")
    GRACE_ENDED = "grace_ended", _("Grace period ended without a contract")
    BREACH_ACTION_OVERDUE = "breach_action_overdue", _("Deadline of a breach action passed")


class TriageFilterReason(models.TextChoices):
    GRACE_PERIOD_ENDED = "grace_period_ended", _("Grace period ended without a contract")
    BILLED_WITHOUT_CONTRACT = (
        "billed_without_contract",
        _("Billed for care without a contract (Wlz with treatment)"),
    )


class ClaimImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Importing")
    IMPORTED = "imported", _("Imported")
    REJECTED = "rejected", _("Rejected: the file has errors")
    FAILED = "failed", _("Failed")


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    SENT = "sent", _("Sent")


class NotificationChannel(models.TextChoices):
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Telephone")
    MEETING = "meeting", _("In person")


class AccessAction(models.TextChoices):
    IMPORT = "import", _("Import")
    VIEW = "view", _("View")
    SEARCH = "search", _("Search")
    EXPORT = "export", _("Export")


class TriageVerdict(models.TextChoices):
    CONTRACTED = "contracted", _("Contracted")
    NO_CARE_WITHOUT_AGREEMENT = (
        "no_anw_care_without_agreement",
        _("No ANW care without agreement: refer to the institution's own physician"),
    )
    UNKNOWN = "unknown", _("Unknown")
