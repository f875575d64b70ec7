from django.db import models
from django.utils.translation import gettext_lazy as _


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
    STEP_DUE = "step_due", _("Service norm of a step running out")
    STEP_OVERDUE = "step_overdue", _("Service norm of a step exceeded")
