import factory
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from factory.django import DjangoModelFactory

from hap_contracting.billing.constants import ClaimImportStatus
from hap_contracting.billing.models import AddressInvestigation, Claim, ClaimImport
from hap_contracting.core.roles import Role
from hap_contracting.tariffs.models import Act
from tests.accounts.factories import UserFactory
from tests.organisations.factories import CareLocationFactory, HapPostFactory


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


def second_finance_user(maker):
    """Four eyes: another finance user than ``maker``, who approves what ``maker`` made (the same
    one every time it is asked for)."""
    from accounts.models import User

    existing = (
        User.objects.filter(groups__name=Role.FINANCE, region__isnull=True, username="controle")
        .exclude(pk=maker.pk)
        .first()
    )
    return existing or UserFactory(username="controle", region=None, roles=[Role.FINANCE])
