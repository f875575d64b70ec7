import datetime
from decimal import Decimal

import factory
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Group
from django.utils import timezone
from factory.django import DjangoModelFactory

from hap_contracting.constants import (
    ContractKind,
    OrganisationType,
    RequestKind,
    RequestState,
    Role,
)
from hap_contracting.models import (
    Act,
    AdmissionRequest,
    CareLocation,
    CareOrganisation,
    Contract,
    HapPost,
    InsurerTariff,
    PostcodeRange,
    Region,
    TargetGroup,
    User,
)
from hap_contracting.services.contracts import ContractTerms

S = RequestState


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Regio {n}")
    slug = factory.Sequence(lambda n: f"regio-{n}")


class HapPostFactory(DjangoModelFactory):
    class Meta:
        model = HapPost

    region = factory.SubFactory(RegionFactory)
    name = factory.Sequence(lambda n: f"HAP {n}")
    city = "Zwolle"


class PostcodeRangeFactory(DjangoModelFactory):
    class Meta:
        model = PostcodeRange

    post = factory.SubFactory(HapPostFactory)
    first = 8000
    last = 8099


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Gebruiker {n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    region = factory.SubFactory(RegionFactory)
    password = factory.PostGenerationMethodCall("set_password", "geheim-wachtwoord")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ():
            self.groups.add(Group.objects.get_or_create(name=role)[0])
        self.save()


class CareOrganisationFactory(DjangoModelFactory):
    class Meta:
        model = CareOrganisation

    name = factory.Sequence(lambda n: f"Zorggroep {n}")
    kvk_number = factory.Sequence(lambda n: f"{10000000 + n}")
    agb_code = factory.Sequence(lambda n: f"{73000000 + n}")
    organisation_type = OrganisationType.WLZ_INSTITUTION


class TargetGroupFactory(DjangoModelFactory):
    class Meta:
        model = TargetGroup
        django_get_or_create = ("name",)

    name = "Psychogeriatrie"
    is_special = False


class CareLocationFactory(DjangoModelFactory):
    class Meta:
        model = CareLocation

    organisation = factory.SubFactory(CareOrganisationFactory)
    name = factory.Sequence(lambda n: f"Woonzorglocatie {n}")
    street = "Hofstraat"
    house_number = factory.Sequence(lambda n: n + 1)
    postcode = "8011 AB"
    city = "Zwolle"
    hap_post = factory.SubFactory(HapPostFactory)
    region = factory.SelfAttribute("hap_post.region")
    wlz_treatment_admission = True
    treatment_delivered = True
    highest_care_profile = 7
    number_of_residents = 24


class AdmissionRequestFactory(DjangoModelFactory):
    """A request in any state, e.g. ``AdmissionRequestFactory(at_council=True)``.

    Built directly in its state for tests of later steps; tests of the steps themselves go
    through the services.
    """

    class Meta:
        model = AdmissionRequest

    class Params:
        in_pre_assessment = factory.Trait(state=S.PRE_ASSESSMENT)
        at_quality_team = factory.Trait(state=S.QUALITY_REVIEW)
        at_council = factory.Trait(state=S.COUNCIL_REVIEW)
        in_contracting = factory.Trait(state=S.CONTRACTING)

    location = factory.SubFactory(CareLocationFactory)
    kind = RequestKind.NEW_ENTRANT
    requester_name = "M. van den Berg"
    requester_email = "aanvrager@example.org"
    received_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    state = S.RECEIVED
    state_entered_at = factory.LazyFunction(timezone.now)
    created_by = factory.SubFactory(
        UserFactory, region=factory.SelfAttribute("..location.region"), roles=[Role.SECRETARIAT]
    )
    assigned_location_manager = factory.Maybe(
        factory.LazyAttribute(lambda r: r.state != S.RECEIVED),
        yes_declaration=factory.SubFactory(
            UserFactory,
            region=factory.SelfAttribute("..location.region"),
            roles=[Role.LOCATION_MANAGER],
        ),
        no_declaration=None,
    )


class ContractFactory(DjangoModelFactory):
    """A running contract; by default started a year ago for two years."""

    class Meta:
        model = Contract

    location = factory.SubFactory(CareLocationFactory)
    organisation = factory.SelfAttribute("location.organisation")
    region = factory.SelfAttribute("location.region")
    kind = ContractKind.WLZ_WITHOUT_TREATMENT
    start_date = factory.LazyFunction(lambda: timezone.localdate() - relativedelta(years=1))
    end_date = factory.LazyAttribute(lambda c: c.start_date + relativedelta(years=2, days=-1))


def without_treatment_terms(start_date=None) -> ContractTerms:
    return ContractTerms(
        kind=ContractKind.WLZ_WITHOUT_TREATMENT, start_date=start_date or timezone.localdate()
    )


EXAMPLE_TARIFFS = {
    "CONSULT": Decimal("52.40"),
    "VISITE": Decimal("78.60"),
    "TELEFOON": Decimal("26.20"),
}


def insurer_tariffs(valid_from, valid_until=None, amounts=None) -> dict[str, InsurerTariff]:
    """Insurer tariffs of the standard acts for one period."""
    return {
        code: InsurerTariff.objects.create(
            act=Act.objects.get(code=code),
            amount=amount,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        for code, amount in (amounts or EXAMPLE_TARIFFS).items()
    }


def submitted_assessment(admission_request, **values_by_code):
    """A submitted checklist for the request with every item met, unless overridden."""
    from checklist.constants import AssessmentStatus
    from checklist.demo import complete_answers
    from checklist.models import Answer, Assessment
    from checklist.selectors import current_template

    template = current_template()
    by = admission_request.assigned_location_manager or admission_request.created_by
    assessment = Assessment.objects.create(
        admission_request=admission_request,
        template=template,
        created_by=by,
        status=AssessmentStatus.SUBMITTED,
        submitted_at=timezone.now(),
        submitted_by=by,
    )
    Answer.objects.bulk_create(
        Answer(assessment=assessment, item_id=item_id, value=data["value"])
        for item_id, data in complete_answers(template, **values_by_code).items()
    )
    return assessment


# --- Billing (added with the billing pages) -------------------------------------------------
from hap_contracting.constants import ClaimImportStatus  # noqa: E402
from hap_contracting.models import AddressInvestigation, Claim, ClaimImport  # noqa: E402


class ClaimImportFactory(DjangoModelFactory):
    """An imported file (no file on disk: the claims are made by ``ClaimFactory``)."""

    class Meta:
        model = ClaimImport

    file = "claim-imports/test.csv"
    original_name = "geweigerd.csv"
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    uploaded_by = factory.SubFactory(UserFactory, region=None, roles=[Role.FINANCE])
    status = ClaimImportStatus.IMPORTED
    finished_at = factory.LazyFunction(timezone.now)


class ClaimFactory(DjangoModelFactory):
    """A refused claim at ``location`` (matched), last month by default."""

    class Meta:
        model = Claim

    claim_import = factory.SubFactory(ClaimImportFactory)
    line_number = factory.Sequence(lambda n: n + 2)
    care_at = factory.LazyFunction(
        lambda: timezone.now().replace(day=10, hour=23, minute=15) - relativedelta(months=1)
    )
    care_on = factory.LazyAttribute(lambda c: timezone.localtime(c.care_at).date())
    location = factory.SubFactory(CareLocationFactory)
    post = factory.LazyAttribute(lambda c: c.location.hap_post)
    act = factory.LazyFunction(lambda: Act.objects.get(code="VISITE"))
    patient_reference = factory.Sequence(lambda n: f"ZK-{n:06d}")
    postcode = factory.LazyAttribute(lambda c: c.location.postcode)
    house_number = factory.LazyAttribute(lambda c: c.location.house_number)
    house_number_addition = factory.LazyAttribute(
        lambda c: c.location.house_number_addition if c.location else ""
    )
    reason_code = "WLZ-BEH"


class AddressInvestigationFactory(DjangoModelFactory):
    class Meta:
        model = AddressInvestigation

    post = factory.SubFactory(HapPostFactory)
    postcode = "8011 AB"
    house_number = factory.Sequence(lambda n: 500 + n)
    house_number_addition = ""
    opened_on = factory.LazyFunction(timezone.localdate)
