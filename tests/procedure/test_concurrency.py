"""Two people acting on the same request at the same moment: exactly one step happens."""

import threading

import pytest
from django.db import connection

from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestState
from hap_contracting.procedure.models import AdmissionRequest, Advice, TransitionLog
from hap_contracting.procedure.services import admission as services
from tests.procedure.factories import AdmissionRequestFactory

# serialized_rollback: the flush after a transactional test must not take the checklist version
# (shipped by a data migration) away from the tests that follow.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_council_members_deciding_at_once_yield_exactly_one_decision(
    zwolle, make_user, location
):
    first, second = (make_user(Role.REGIONAL_COUNCIL, region=zwolle) for _ in range(2))
    request_id = AdmissionRequestFactory(at_council=True, location=location).pk
    # Both read the request before either writes: the race the mixin must settle.
    copies = [AdmissionRequest.objects.get(pk=request_id) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def decide(name, user, copy, outcome):
        try:
            barrier.wait(timeout=10)
            services.admission_request_advise(
                admission_request=copy,
                by=user,
                step=AdviceStep.REGIONAL_COUNCIL,
                outcome=outcome,
                motivation=f"Besluit van {name}.",
            )
            outcomes[name] = "done"
        except DomainError as error:
            outcomes[name] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=("eerste", first, copies[0], AdviceOutcome.POSITIVE)),
        threading.Thread(target=decide, args=("tweede", second, copies[1], AdviceOutcome.NEGATIVE)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(type(o).__name__ for o in outcomes.values()) == ["DomainError", "str"]
    refused = next(o for o in outcomes.values() if isinstance(o, DomainError))
    assert "iemand anders" in refused.message or "Someone else" in refused.message
    request = AdmissionRequest.objects.get(pk=request_id)
    assert request.state in (RequestState.CONTRACTING, RequestState.REJECTED)
    assert Advice.objects.filter(admission_request_id=request_id).count() == 1
    assert TransitionLog.objects.filter(object_id=request_id).count() == 1
