"""Journeys in a real browser (Playwright driving Debian's Chromium) against a live server."""

import pytest

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import RequestState
from hap_contracting.procedure.models import AdmissionRequest
from tests.conftest import VIEWPORTS
from tests.procedure.factories import AdmissionRequestFactory

# serialized_rollback: the transactional flush would otherwise also remove the checklist
# version that a data migration ships, for every later test.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    """Every journey at a desktop's width and at a phone's (390 px)."""
    return VIEWPORTS[request.param]


def test_location_manager_fills_in_the_checklist_and_advises_positively(
    page, log_in, staff, location
):
    manager = staff[Role.LOCATION_MANAGER]
    request = AdmissionRequestFactory(
        in_pre_assessment=True, location=location, assigned_location_manager=manager
    )
    log_in(manager)

    page.goto(f"/aanvragen/{request.pk}/")
    page.get_by_role("link", name="Checklist", exact=True).click()
    page.get_by_role("button", name="Start de checklist").click()
    for radio in page.locator("#checklist-form input[type=radio][value=yes]").all():
        radio.check()
    page.locator("#checklist-form input[type=text][name$=_value]").fill("SO-dienst De Hof")
    page.locator("#checklist-form input[type=tel]").fill("038 123 45 67")
    page.locator("#checklist-form input[type=time][name$=_from]").fill("17:00")
    page.locator("#checklist-form input[type=time][name$=_to]").fill("08:00")
    page.locator("#checklist-form input[name$=_weekends]").check()
    page.get_by_role("button", name="Checklist indienen").click()
    page.get_by_text("De checklist is ingediend.").wait_for()

    page.goto(f"/aanvragen/{request.pk}/advise-location-manager/")
    page.get_by_label("Positief").check()
    page.get_by_label("Motivering").fill("Voorwacht, triage en achterwacht zijn op orde.")
    page.get_by_role("button", name="Vastleggen").click()

    badge = page.locator(".state-badge").first
    badge.wait_for()
    assert badge.inner_text() == "Beoordeling door het kwaliteitsteam"
    assert AdmissionRequest.objects.get(pk=request.pk).state == RequestState.QUALITY_REVIEW
