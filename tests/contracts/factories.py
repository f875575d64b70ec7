import factory
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from factory.django import DjangoModelFactory

from hap_contracting.contracts.constants import ContractKind
from hap_contracting.contracts.models import Contract
from hap_contracting.contracts.services.contracts import ContractTerms
from tests.organisations.factories import CareLocationFactory


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
