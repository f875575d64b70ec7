import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import RequestKind, RequestState
from hap_contracting.procedure.models import AdmissionRequest
from tests.accounts.factories import UserFactory
from tests.organisations.factories import CareLocationFactory

S = RequestState


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
