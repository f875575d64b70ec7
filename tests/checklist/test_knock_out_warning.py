"""A knock-out item answered so that it is not met says so beside the item: the server after a
save, and the browser as soon as the answer is chosen, in the same words."""

import re

import pytest
from django.urls import reverse

from checklist.evaluation import knock_out_warning
from checklist.models import ChecklistItem
from checklist.selectors import current_template
from hap_contracting.core.roles import Role
from hap_contracting.procedure.services.pre_assessment import pre_assessment_start
from tests.procedure.factories import AdmissionRequestFactory

WARNING = "Knock-outvraag: met dit antwoord is een positief advies niet mogelijk."


@pytest.fixture
def manager(staff):
    return staff[Role.LOCATION_MANAGER]


@pytest.fixture
def started_request(location, manager):
    request = AdmissionRequestFactory(
        in_pre_assessment=True, location=location, assigned_location_manager=manager
    )
    pre_assessment_start(admission_request=request, by=manager)
    return request


def item(code):
    return ChecklistItem.objects.get(section__template=current_template(), code=code)


def warning_of(page: str, code: str) -> str:
    block = page.split(f'data-item="{code}"', 1)[1].split('class="checklist-item', 1)[0]
    return re.search(r'data-testid="knock-out-warning"[^>]*>(.*?)</p>', block, re.S).group(1)


@pytest.mark.django_db
def test_the_server_warns_beside_a_knock_out_item_answered_no(client, started_request, manager):
    client.force_login(manager)
    url = reverse("procedure:checklist", args=[started_request.pk])
    pulse, pressure = item("triage-pulse"), item("triage-blood-pressure")

    client.post(
        url,
        {
            f"item_{pulse.pk}_value": "no",
            f"item_{pulse.pk}_explanation": "Geen saturatiemeter aanwezig.",
            f"item_{pressure.pk}_value": "yes",
            "save": "1",
        },
    )
    page = client.get(url).content.decode()

    assert warning_of(page, "triage-pulse").strip() == WARNING
    assert warning_of(page, "triage-blood-pressure").strip() == ""
    assert 'aria-live="polite"' in page


@pytest.mark.django_db
def test_the_browser_is_given_the_servers_words_and_the_answers_that_pass(
    client, started_request, manager
):
    client.force_login(manager)

    page = client.get(reverse("procedure:checklist", args=[started_request.pk])).content.decode()

    assert str(knock_out_warning()) == WARNING
    assert f'data-warning="{WARNING}"' in page
    assert 'data-item="triage-pulse" data-knock-out-passing="[&quot;yes&quot;]"' in page
    assert "js/knock-out.js" in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_choosing_no_on_a_knock_out_item_warns_at_once(page, log_in, started_request, manager):
    from playwright.sync_api import expect

    log_in(manager)
    page.goto(reverse("procedure:checklist", args=[started_request.pk]))
    pulse = page.locator('[data-item="triage-pulse"]')
    warning = pulse.get_by_test_id("knock-out-warning")
    expect(warning).to_have_attribute("aria-live", "polite")
    expect(warning).to_have_text("")

    pulse.locator("input[type=radio][value=no]").check()
    expect(warning).to_have_text(WARNING)

    pulse.locator("input[type=radio][value=yes]").check()
    expect(warning).to_have_text("")
