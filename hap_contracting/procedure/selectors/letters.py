"""Reads for the decision letter: the council's decision, the template version in force and the
values of its placeholders."""

from __future__ import annotations

from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery
from django.template.defaultfilters import date as format_date
from django.utils import translation

from hap_contracting.core.scoping import scoped_to_region

from ..constants import DECISION_OUTCOMES, AdviceStep
from ..models import AdmissionRequest, Advice, DecisionLetterTemplate

DECISION_OUTCOME_VALUES = [value for value, _label in DECISION_OUTCOMES]


def council_decision(admission_request: AdmissionRequest) -> Advice | None:
    """The regional council's decision (approval or rejection), or None before it decided. The
    council decides once: after it the request is in contracting, contracted or rejected."""
    return (
        Advice.objects.filter(
            admission_request=admission_request,
            step=AdviceStep.REGIONAL_COUNCIL,
            outcome__in=DECISION_OUTCOME_VALUES,
        )
        .select_related("decided_by")
        .order_by("-recorded_at", "-pk")
        .first()
    )


def council_has_decided(admission_request: AdmissionRequest, *, advices=None) -> bool:
    """Whether the decision letter can be had (the pages show its link only then). ``advices``:
    the request's advices when the page has read them already (then no query)."""
    if advices is not None:
        return any(
            advice.step == AdviceStep.REGIONAL_COUNCIL and advice.outcome in DECISION_OUTCOME_VALUES
            for advice in advices
        )
    return Advice.objects.filter(
        admission_request=admission_request,
        step=AdviceStep.REGIONAL_COUNCIL,
        outcome__in=DECISION_OUTCOME_VALUES,
    ).exists()


def letter_template_for(*, region_id: int | None, outcome: str) -> DecisionLetterTemplate | None:
    """The version in force for a region and outcome: the region's newest version, or else the
    newest national default (one query)."""
    return (
        DecisionLetterTemplate.objects.filter(Q(region_id=region_id) | Q(region__isnull=True))
        .filter(outcome=outcome)
        .order_by(F("region_id").asc(nulls_last=True), "-version")
        .first()
    )


def letter_templates_visible_to(user) -> QuerySet[DecisionLetterTemplate]:
    """The admin's list: every version the user's region uses (its own and the national
    defaults), each marked ``is_current`` when it is the newest of its region and outcome."""
    newest = (
        DecisionLetterTemplate.objects.filter(
            outcome=OuterRef("outcome"), region_id=OuterRef("region_id")
        )
        .order_by()
        .values("outcome")
        .annotate(newest=Max("version"))
        .values("newest")
    )
    newest_national = (
        DecisionLetterTemplate.objects.filter(outcome=OuterRef("outcome"), region__isnull=True)
        .order_by()
        .values("outcome")
        .annotate(newest=Max("version"))
        .values("newest")
    )
    queryset = DecisionLetterTemplate.objects.select_related("region", "created_by").annotate(
        newest_of_region=Subquery(newest), newest_of_nation=Subquery(newest_national)
    )
    if user.is_authenticated and user.sees_all_regions:
        return queryset
    regional = scoped_to_region(queryset, user, "region_id")
    national = queryset.filter(region__isnull=True) if user.is_authenticated else queryset.none()
    return regional | national


def is_current_version(template: DecisionLetterTemplate) -> bool:
    """Newest of its region and outcome (from ``letter_templates_visible_to``'s annotations)."""
    if template.region_id is None:
        return template.version == getattr(template, "newest_of_nation", None)
    return template.version == getattr(template, "newest_of_region", None)


def letter_values(admission_request: AdmissionRequest, decision: Advice) -> dict[str, str]:
    """Every placeholder's value, as plain Dutch text (dates written out), and the letterhead.
    Computed once when the letter is made and kept with it."""
    location = admission_request.location
    signatory = decision.decided_by
    with translation.override("nl"):
        return {
            "aanvrager": admission_request.requester_name,
            "locatie": location.name,
            "adres": location.address,
            "organisatie": location.organisation.name if location.organisation_id else "",
            "referentie": admission_request.reference,
            "soort": str(admission_request.get_kind_display()),
            "ontvangstdatum": format_date(admission_request.received_on, "j F Y"),
            "besluitdatum": format_date(decision.decided_on, "j F Y"),
            "motivering": decision.motivation,
            "regio": location.region.name,
            "hap": f"{location.hap_post.name}, {location.hap_post.city}",
            "ondertekenaar": signatory.get_full_name() or signatory.username,
        }
