"""Choices of the admission procedure: lowercase values, translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestState(models.TextChoices):
    RECEIVED = "received", _("Received")
    PRE_ASSESSMENT = "pre_assessment", _("Pre-assessment by location manager")
    QUALITY_REVIEW = "quality_review", _("Quality team review")
    COUNCIL_REVIEW = "council_review", _("Regional council review")
    CONTRACTING = "contracting", _("Contracting")
    CONTRACTED = "contracted", _("Contracted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Before the council's decision: the requester may still withdraw, and a location has one.
OPEN_STATES = (
    RequestState.RECEIVED,
    RequestState.PRE_ASSESSMENT,
    RequestState.QUALITY_REVIEW,
    RequestState.COUNCIL_REVIEW,
)
TERMINAL_STATES = (RequestState.CONTRACTED, RequestState.REJECTED, RequestState.WITHDRAWN)
# Not ended: the open states and contracting (a renewal is unfinished until contracted).
UNFINISHED_STATES = tuple(state for state in RequestState if state not in TERMINAL_STATES)


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


# The council's two outcomes a decision letter is written for.
DECISION_OUTCOMES = [
    (AdviceOutcome.POSITIVE.value, _("Positive (approval)")),
    (AdviceOutcome.NEGATIVE.value, _("Negative (rejection)")),
]

# The only placeholders a decision letter template may use (``core.placeholders``): the name an
# administrator types between double braces, and what it is replaced by.
LETTER_PLACEHOLDERS = {
    "aanvrager": _("the requester's name"),
    "locatie": _("the care location's name"),
    "adres": _("the care location's address"),
    "organisatie": _("the care organisation's name"),
    "referentie": _("the request's reference, e.g. A-00012"),
    "soort": _("the kind of request"),
    "ontvangstdatum": _("the date the request was received"),
    "besluitdatum": _("the date of the council's decision"),
    "motivering": _("the council's motivation"),
    "regio": _("the region's name"),
    "hap": _("the out-of-hours GP post of the location"),
    "ondertekenaar": _("the name of the council member who recorded the decision"),
}


# The steps of the procedure that have a service norm (``StepNorm``), in their order: a
# request's state names the step it is in.
NORM_STEPS = (
    RequestState.RECEIVED,
    RequestState.PRE_ASSESSMENT,
    RequestState.QUALITY_REVIEW,
    RequestState.COUNCIL_REVIEW,
    RequestState.CONTRACTING,
)


class NormUnit(models.TextChoices):
    DAYS = "days", _("days")
    WEEKS = "weeks", _("weeks")
    MONTHS = "months", _("months")


# The national norms the data migration writes, (amount, unit) per step. Intake: the
# secretariat forwards within two weeks (our choice); seed 004, 7.1: contracting is completed
# within six months of the council's decision.
DEFAULT_NORMS = {
    RequestState.RECEIVED: (2, NormUnit.WEEKS),
    RequestState.PRE_ASSESSMENT: (4, NormUnit.WEEKS),
    RequestState.QUALITY_REVIEW: (4, NormUnit.WEEKS),
    RequestState.COUNCIL_REVIEW: (6, NormUnit.WEEKS),
    RequestState.CONTRACTING: (6, NormUnit.MONTHS),
}


class ClockEventKind(models.TextChoices):
    SUSPENDED = "suspended", _("Clock suspended")
    RESUMED = "resumed", _("Clock resumed")
    EXTENDED = "extended", _("Deadline extended")
