"""What kind of location is this? The Wkkgz situation of a care location, derived from the facts
recorded on it, and what follows from it. Pure: no database, no request; ``classify`` is the
one place the rule lives, ``SITUATIONS`` the table of each situation's consequences, each naming
its source document (by its title: the page shows it) and the part of it.

The rule (seed 000, "Veelgestelde vragen", the four situations of the Wkkgz question):

1. admission for Wlz care with stay and treatment: the institution organises the medical care;
2. otherwise, with PGB budgets only and no contract with the zorgkantoor: not a care provider in
   the sense of the Wkkgz (situation 4, checked before 2 and 3: without a contract the location
   is no care provider, whether or not it offers housing and care together);
3. otherwise housing and care together with care dominant: situation 2; fully separate: 3.

A fact still "unknown" that the rule needs leaves the situation unknown, naming that fact.
"""

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .constants import Answer, GpCare, HousingAndCare, WkkgzSituation

# The facts the classification reads, in the order the rule asks them.
FACT_FIELDS = ("wlz_treatment_admission", "pgb_without_zorgkantoor_contract", "housing_and_care")
FACT_LABELS = {
    "wlz_treatment_admission": _("Wlz admission with treatment"),
    "pgb_without_zorgkantoor_contract": _("PGB budgets only, no contract with the zorgkantoor"),
    "housing_and_care": _("Housing and care"),
}

# The source documents, by their own titles (Dutch, as published; not translated).
WOONSITUATIE = "Huisartsenzorg per woonsituatie"  # LHV (seed 000)
HANDELINGSPERSPECTIEF = "Handelingsperspectief geclusterde woonvoorzieningen"  # LHV (seed 001)
SCHEMA = "Schema Huisartsenzorg per woonvorm en Wlz-indicatie"  # LHV (seed 003)
BELEID = "Medrie-beleid Wlz-zorg in de ANW"  # the cooperative's policy, February 2023 (seed 004)


@dataclass(frozen=True)
class Source:
    document: str
    part: Promise

    def __str__(self) -> str:
        return f"{self.document}, {self.part}"


@dataclass(frozen=True)
class Consequence:
    text: Promise
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Condition:
    number: int
    text: Promise


# Seed 001, appendix: the eight conditions under which a GP provides GP care in a (clustered)
# residential care location.
CONDITIONS_SOURCE = Source(HANDELINGSPERSPECTIEF, _("appendix, conditions"))
CONDITIONS = (
    Condition(
        1, _("It does not come at the expense of the basic GP care for the practice's patients.")
    ),
    Condition(2, _("The GP limits their care to GP care.")),
    Condition(
        3,
        _(
            "The GP is responsible only for (acute) general medical care during the day, arranges "
            "a locum when absent and hands over well to the out-of-hours service."
        ),
    ),
    Condition(
        4,
        _(
            "The location has arranged (acute) medical care out of hours, for example with the "
            "out-of-hours GP post, provided agreements with the post have been made."
        ),
    ),
    Condition(
        5,
        _(
            "An elderly-care physician (SO) is reachable and available 24/7 as main practitioner "
            "for treatment and consultation."
        ),
    ),
    Condition(
        6,
        _("The location provides enough competent care staff and, where needed, nursing staff."),
    ),
    Condition(
        7,
        _(
            "The location considers itself ultimately responsible for organising the medical care "
            "before a resident is admitted."
        ),
    ),
    Condition(
        8,
        _("Adequate written agreements between the GP and the location secure these conditions."),
    ),
)


@dataclass(frozen=True)
class Situation:
    code: str
    summary: Promise
    responsible: Consequence
    gp_care: GpCare
    gp_care_consequence: Consequence
    triage_filter_can_apply: bool
    triage: Consequence
    conditions: tuple[Condition, ...]
    conditions_consequence: Consequence

    @property
    def label(self):
        return WkkgzSituation(self.code).label


_INSURER_PAID = Consequence(
    _(
        "Residents stay registered with their own GP, who bills the resident's health insurer. "
        "Agree the conditions with the location beforehand and lay them down in an agreement."
    ),
    (Source(SCHEMA, _("living in a care location without Wlz treatment")),),
)
_NO_TRIAGE_FILTER = Consequence(
    _(
        "The triage filter does not apply: residents are registered with a GP, and the "
        "out-of-hours GP post cannot refuse care to them."
    ),
    (Source(BELEID, _("section 7, Wlz care out of hours")),),
)

SITUATIONS = {
    WkkgzSituation.WLZ_INSTITUTION: Situation(
        code=WkkgzSituation.WLZ_INSTITUTION,
        summary=_("The location is admitted for Wlz care including stay and treatment."),
        responsible=Consequence(
            _(
                "The institution must also provide the medical care. It can employ its own "
                "physicians or buy the care in from an organisation, self-employed doctors or a "
                "GP practice."
            ),
            (Source(WOONSITUATIE, _("frequently asked questions, situation 1")),),
        ),
        gp_care=GpCare.INSTITUTION_CONTRACT,
        gp_care_consequence=Consequence(
            _(
                "Not insurer-paid GP care: residents are deregistered at their GP. A GP who takes "
                "on the general medical care does so by free choice, under a contract with the "
                "institution, and bills the institution, not the insurer; there are no standard "
                "tariffs."
            ),
            (
                Source(SCHEMA, _("living in a care location with Wlz treatment")),
                Source(WOONSITUATIE, _("frequently asked questions, situation 1")),
            ),
        ),
        triage_filter_can_apply=True,
        triage=Consequence(
            _(
                "The triage filter can apply: without an agreement with the institution its "
                "address is filtered out at triage and no out-of-hours GP care is given; care "
                "given anyway is charged to the institution at twice the tariff."
            ),
            (Source(BELEID, _("section 7.2, Wlz with stay and treatment")),),
        ),
        conditions=CONDITIONS,
        conditions_consequence=Consequence(
            _(
                "Only under very strict conditions and when you agree on payment: the GP asks "
                "about all eight conditions and lays them down in a contract with the institution."
            ),
            (Source(SCHEMA, _("living in a care location with Wlz treatment")), CONDITIONS_SOURCE),
        ),
    ),
    WkkgzSituation.HOUSING_WITH_CARE: Situation(
        code=WkkgzSituation.HOUSING_WITH_CARE,
        summary=_(
            "The location offers housing and care together, and care dominates the rental and "
            "care agreement."
        ),
        responsible=Consequence(
            _(
                "The care provider is also responsible for organising the medical care: it offers "
                "housing including care as a substitute home (article 3 Wkkgz)."
            ),
            (Source(WOONSITUATIE, _("frequently asked questions, situation 2")),),
        ),
        gp_care=GpCare.INSURER,
        gp_care_consequence=_INSURER_PAID,
        triage_filter_can_apply=False,
        triage=_NO_TRIAGE_FILTER,
        conditions=CONDITIONS,
        conditions_consequence=Consequence(
            _(
                "The GP asks about all eight conditions and agrees them with the location's care "
                "provider, which organises the medical care before a resident moves in."
            ),
            (Source(HANDELINGSPERSPECTIEF, _("situation 1")), CONDITIONS_SOURCE),
        ),
    ),
    WkkgzSituation.HOUSING_SEPARATE: Situation(
        code=WkkgzSituation.HOUSING_SEPARATE,
        summary=_("The location offers housing and care fully separately."),
        responsible=Consequence(
            _(
                "Only the provider of home nursing and care (VVT) can be held to the quality and "
                "organisation of the care under the Wkkgz; the landlord cannot."
            ),
            (Source(WOONSITUATIE, _("frequently asked questions, situation 3")),),
        ),
        gp_care=GpCare.INSURER,
        gp_care_consequence=_INSURER_PAID,
        triage_filter_can_apply=False,
        triage=_NO_TRIAGE_FILTER,
        conditions=CONDITIONS,
        conditions_consequence=Consequence(
            _(
                "The GP asks about all eight conditions and agrees them with the care organisation "
                "that delivers the Wlz care in the location, not with the landlord."
            ),
            (Source(HANDELINGSPERSPECTIEF, _("reading guide")), CONDITIONS_SOURCE),
        ),
    ),
    WkkgzSituation.PGB_INITIATIVE: Situation(
        code=WkkgzSituation.PGB_INITIATIVE,
        summary=_(
            "The location works on personal budgets (PGB): there are contracts between the "
            "residents and the provider only, none with the zorgkantoor."
        ),
        responsible=Consequence(
            _(
                "Nobody under the Wkkgz: the location is not a care provider in the sense of the "
                "Wkkgz and cannot be held to providing good care (article 2) or to organising it "
                "(article 3). Residents with a personal budget are themselves responsible for "
                "arranging their care."
            ),
            (
                Source(WOONSITUATIE, _("frequently asked questions, situation 4")),
                Source(HANDELINGSPERSPECTIEF, _("situation 4")),
            ),
        ),
        gp_care=GpCare.INSURER,
        gp_care_consequence=_INSURER_PAID,
        triage_filter_can_apply=False,
        triage=_NO_TRIAGE_FILTER,
        conditions=CONDITIONS,
        conditions_consequence=Consequence(
            _(
                "The GP asks about all eight conditions, but the location cannot be held to them "
                "under the Wkkgz: here the GP carries the greatest risk, so lay the agreements "
                "down in writing before taking on residents."
            ),
            (Source(HANDELINGSPERSPECTIEF, _("situation 4")), CONDITIONS_SOURCE),
        ),
    ),
}

# Seed 003, "Let op": admitted for Wlz treatment, but the treatment is not delivered.
TREATMENT_NOT_DELIVERED = Consequence(
    _(
        "The institution is admitted for Wlz treatment but does not deliver it: it remains "
        "responsible for doing so and can be held to it. A GP can then only provide the general "
        "medical care if an elderly-care physician provides the specialist care and the further "
        "conditions are arranged."
    ),
    (Source(SCHEMA, _("two kinds of care institutions")),),
)


@dataclass(frozen=True)
class Facts:
    wlz_treatment_admission: bool
    pgb_without_zorgkantoor_contract: str = Answer.UNKNOWN
    housing_and_care: str = HousingAndCare.UNKNOWN
    treatment_delivered: bool = True

    @classmethod
    def of(cls, location) -> "Facts":
        return cls(
            wlz_treatment_admission=location.wlz_treatment_admission,
            pgb_without_zorgkantoor_contract=location.pgb_without_zorgkantoor_contract,
            housing_and_care=location.housing_and_care,
            treatment_delivered=location.treatment_delivered,
        )


@dataclass(frozen=True)
class Classification:
    situation: str
    missing: tuple[str, ...] = ()  # the facts still unknown that the rule needs
    notes: tuple[Consequence, ...] = field(default=())

    @property
    def details(self) -> Situation | None:
        return SITUATIONS.get(self.situation)

    @property
    def label(self):
        return WkkgzSituation(self.situation).label

    @property
    def missing_labels(self) -> list:
        return [FACT_LABELS[name] for name in self.missing]


def classify(facts: Facts) -> Classification:
    """The Wkkgz situation these facts put a location in (seed 000), or unknown with the facts
    still needed."""
    if facts.wlz_treatment_admission:
        notes = () if facts.treatment_delivered else (TREATMENT_NOT_DELIVERED,)
        return Classification(WkkgzSituation.WLZ_INSTITUTION, notes=notes)
    pgb = facts.pgb_without_zorgkantoor_contract
    if pgb == Answer.YES:
        return Classification(WkkgzSituation.PGB_INITIATIVE)
    missing = []
    if pgb != Answer.NO:
        missing.append("pgb_without_zorgkantoor_contract")
    housing = facts.housing_and_care
    if housing not in (HousingAndCare.COMBINED_CARE_DOMINANT, HousingAndCare.SEPARATE):
        missing.append("housing_and_care")
    if missing:
        return Classification(WkkgzSituation.UNKNOWN, missing=tuple(missing))
    if housing == HousingAndCare.COMBINED_CARE_DOMINANT:
        return Classification(WkkgzSituation.HOUSING_WITH_CARE)
    return Classification(WkkgzSituation.HOUSING_SEPARATE)
