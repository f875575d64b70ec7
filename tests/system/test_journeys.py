"""Whole journeys in a real browser (Playwright driving Debian's Chromium) against a live server.

Each journey ends in what the user sees on the page, not only in the database. The labels are
the Dutch ones from locale/nl/LC_MESSAGES/django.po: the tests run with LANGUAGE_CODE "nl".
"""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from django.utils.translation import gettext, override
from playwright.sync_api import expect

from hap_contracting.billing.constants import ClaimImportStatus, InvoiceState
from hap_contracting.billing.models import Claim, Invoice
from hap_contracting.billing.services import claims_import
from hap_contracting.contracts.models import Contract
from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import RequestState
from hap_contracting.procedure.models import AdmissionRequest
from tests.checklist.factories import submitted_assessment
from tests.conftest import VIEWPORTS, open_menu, open_user_menu
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory
from tests.tariffs.factories import insurer_tariffs

# serialized_rollback: the transactional flush would otherwise also remove the checklist
# version and the standard acts that data migrations ship, for every later test.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    """Every journey at a desktop's width and at a phone's (390 px)."""
    return VIEWPORTS[request.param]


def admin_change_url(admission_request) -> str:
    return f"/admin/procedure/admissionrequest/{admission_request.pk}/change/"


def fill_in_the_checklist(page, admission_request) -> None:
    """The location manager's pre-assessment: every item met (as in tests/test_browser.py)."""
    page.goto(f"/aanvragen/{admission_request.pk}/")
    page.get_by_role("link", name="Checklist", exact=True).click()
    page.get_by_role("button", name="Start de checklist").click()
    # Every item "yes", clicked in one round trip rather than one per radio (dozens of items).
    radios = page.locator("#checklist-form input[type=radio][value=yes]")
    radios.evaluate_all("radios => radios.forEach(radio => radio.click())")
    assert radios.evaluate_all("radios => radios.every(radio => radio.checked)")
    page.locator("#checklist-form input[type=text][name$=_value]").fill("SO-dienst De Hof")
    page.locator("#checklist-form input[type=tel]").fill("038 123 45 67")
    page.locator("#checklist-form input[type=time][name$=_from]").fill("17:00")
    page.locator("#checklist-form input[type=time][name$=_to]").fill("08:00")
    page.locator("#checklist-form input[name$=_weekends]").check()
    page.get_by_role("button", name="Checklist indienen").click()
    page.get_by_text("De checklist is ingediend.").wait_for()


def advise_in_the_admin(page, admission_request, *, action: str, outcome: str, motivation: str):
    """The quality team or the council opens the request in the admin and records a step."""
    page.goto(admin_change_url(admission_request))
    page.get_by_role("link", name=action).click()
    page.get_by_label(outcome, exact=True).check()
    page.get_by_label("Motivering").fill(motivation)
    page.get_by_role("button", name="Vastleggen").click()
    if outcome == "Negatief":
        # A negative advice or a rejection ends the procedure: confirmed on a page of its own.
        expect(page.get_by_test_id("consequence")).to_contain_text("De procedure eindigt")
        page.get_by_role("button", name="Bevestigen").click()
    page.get_by_text(f"{action}: gedaan.").wait_for()


# Playwright's expect() retries until the page shows the text (across a navigation); its own
# default of 5 s is short on a busy CI machine, so the context's 15 s is used here as well.
WAIT = 15_000


def sees_state(page, label: str) -> None:
    """The request's state badge (app) reads ``label``."""
    expect(page.locator(".state-badge").first).to_have_text(label, timeout=WAIT)


def sees_admin_state(page, label: str) -> None:
    """The read-only state field of the admin's change page reads ``label``."""
    expect(page.locator(".field-state .readonly")).to_have_text(label, timeout=WAIT)


# --- 1. From registration to a contract in the register ----------------------------------------


def test_a_registered_request_ends_as_an_active_contract_in_the_register(
    page, log_in, staff, make_user, zwolle, location
):
    secretariat = staff[Role.SECRETARIAT]
    manager = staff[Role.LOCATION_MANAGER]
    quality_team = make_user(Role.QUALITY_TEAM, region=zwolle, is_staff=True)
    council = make_user(Role.REGIONAL_COUNCIL, region=zwolle, is_staff=True)
    # The location has a Wlz admission with treatment: the rates must be at least twice these.
    insurer_tariffs(timezone.localdate())

    # The secretariat registers the request and forwards it to the location manager.
    log_in(secretariat)
    page.goto("/aanvragen/nieuw/")
    page.get_by_label("Zorglocatie").select_option(label=f"{location.name}, {location.city}")
    page.get_by_label("Soort aanvraag").select_option(label="Nieuwe toetreder")
    page.get_by_label("Naam aanvrager").fill("M. van den Berg")
    page.get_by_label("E-mailadres aanvrager").fill("aanvrager@example.org")
    page.get_by_role("button", name="Aanvraag registreren").click()
    page.get_by_text(re.compile(r"Aanvraag .+ is geregistreerd\.")).wait_for()
    sees_state(page, "Ontvangen")
    admission_request = AdmissionRequest.objects.get(location=location)

    page.get_by_role("link", name="Doorsturen naar locatiemanager").click()
    page.get_by_label("Locatiemanager").select_option(label=manager.get_full_name())
    page.get_by_role("button", name="Doorsturen naar locatiemanager").click()
    page.get_by_text(
        "Doorsturen naar locatiemanager: gedaan. De aanvraag ligt nu bij locatiemanager"
    ).wait_for()
    sees_state(page, "Vooronderzoek door de locatiemanager")

    # The location manager fills in the checklist and advises positively.
    log_in(manager)
    fill_in_the_checklist(page, admission_request)
    page.goto(f"/aanvragen/{admission_request.pk}/")
    page.get_by_role("link", name="Advies vooronderzoek geven").click()
    page.get_by_label("Positief").check()
    page.get_by_label("Motivering").fill("Voorwacht, triage en achterwacht zijn op orde.")
    page.get_by_role("button", name="Vastleggen").click()
    sees_state(page, "Beoordeling door het kwaliteitsteam")

    # The quality team advises positively and the council approves, both in the admin.
    log_in(quality_team)
    advise_in_the_admin(
        page,
        admission_request,
        action="Advies kwaliteitsteam geven",
        outcome="Positief",
        motivation="De afspraken over de medische zorg zijn sluitend.",
    )
    sees_admin_state(page, "Beoordeling door de regioraad")

    log_in(council)
    advise_in_the_admin(
        page,
        admission_request,
        action="Besluit regioraad vastleggen",
        outcome="Positief",
        motivation="Akkoord conform het advies van het kwaliteitsteam.",
    )
    sees_admin_state(page, "Contractering")

    # The location manager records how the outcome was processed.
    log_in(manager)
    page.goto(f"/aanvragen/{admission_request.pk}/")
    page.get_by_role("link", name="Uitkomst vastleggen").click()
    page.get_by_label("Hoe de uitkomst is verwerkt").fill("Besluit met de organisatie besproken.")
    page.get_by_role("button", name="Uitkomst vastleggen").click()
    page.get_by_text(
        "Uitkomst vastleggen: gedaan. De aanvraag ligt nu bij het regiosecretariaat"
    ).wait_for()

    # The secretariat completes contracting with rates of twice the insurer tariff.
    log_in(secretariat)
    page.goto(f"/aanvragen/{admission_request.pk}/")
    page.get_by_role("link", name="Contractering afronden").click()
    page.get_by_label("Soort contract").select_option(label="Wlz met behandeling")
    page.locator("input[name=rate_CONSULT]").fill("104.80")
    page.locator("input[name=rate_VISITE]").fill("157.20")
    page.locator("input[name=rate_TELEFOON]").fill("52.40")
    page.get_by_role("button", name="Contractering afronden en het contract aanmaken").click()
    page.get_by_role("button", name="Bevestigen").click()
    page.get_by_text(
        re.compile(r"Contractering afronden: gedaan\. Contract C-\d+ staat in het register")
    ).wait_for()
    sees_state(page, "Gecontracteerd")

    # The contract is in the register, running.
    open_menu(page)
    page.get_by_role("link", name="Contracten", exact=True).click()
    page.wait_for_url("**/contracten/")
    row = page.locator("tbody tr").filter(has_text=location.name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(location.organisation.name)
    expect(row).to_contain_text("Wlz met behandeling")
    # ContractStatus.ACTIVE, "Active", reads "Lopend" in Dutch.
    expect(row.locator("[data-status=active]")).to_have_text("Lopend")
    assert Contract.objects.get(location=location).rates.count() == 3


# --- 2. A negative advice of the quality team ends the request ----------------------------------


def test_negative_quality_advice_ends_the_request_and_the_requester_sees_it(
    page, log_in, zwolle, make_user, location
):
    quality_team = make_user(Role.QUALITY_TEAM, region=zwolle, is_staff=True)
    admission_request = AdmissionRequestFactory(at_quality_team=True, location=location)
    submitted_assessment(admission_request)

    log_in(quality_team)
    advise_in_the_admin(
        page,
        admission_request,
        action="Advies kwaliteitsteam geven",
        outcome="Negatief",
        motivation="Er is geen sluitende achterwacht in de nacht.",
    )
    sees_admin_state(page, "Afgewezen")
    # No further step is offered on a rejected request.
    tools = [text.strip() for text in page.locator(".object-tools a").all_text_contents()]
    assert tools == ["Openen in de applicatie", "Dossier (PDF)", "Historie"]

    # The requester has no account: the link in their e-mail is enough.
    page.context.clear_cookies()
    page.goto(f"/status/{admission_request.public_token}/")
    expect(page.get_by_test_id("requester-status")).to_have_text(
        "Uw aanvraag is afgewezen: er wordt geen ANW-contract afgesloten. "
        "U ontvangt de motivering van het regiosecretariaat."
    )
    assert page.get_by_role("button", name="Aanvraag intrekken").count() == 0


# --- 3. Finance bills care given without a contract ---------------------------------------------


def dutch(text) -> str:
    """What the Dutch page shows for this message, from the same catalogue the app uses (the
    billing pages' strings may not be translated yet; the page then shows the English)."""
    with override("nl"):
        return gettext(str(text)) if isinstance(text, str) else str(text)


def show_as_still_running(route) -> None:
    response = route.fetch()
    body = response.text()
    assert 'data-finished="1"' in body and " bg-success" in body
    body = (
        body.replace('data-finished="1"', 'data-finished="0"')
        .replace(" bg-success", " progress-bar-striped progress-bar-animated")
        .replace('data-percent="100"', 'data-percent=""')
    )
    route.fulfill(response=response, body=body)


def status_half_way(route) -> None:
    """The status of an import that has checked one line of two."""
    response = route.fetch()
    status = response.json() | {
        "status": "running",
        "finished": False,
        "processed_lines": 1,
        "total_lines": 2,
        "percent": 50,
    }
    route.fulfill(response=response, json=status)


def test_finance_imports_claims_approves_the_invoice_and_downloads_the_invoice_lines(
    page, log_in, make_user, zwolle, tmp_path
):
    finance = make_user(Role.FINANCE)
    location = CareLocationFactory(
        hap_post=zwolle.posts.get(),
        postcode="8011 AB",
        house_number=12,
        house_number_addition="A",
        wlz_treatment_admission=True,
    )
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    insurer_tariffs(last_month)  # a visit: 78.60, so 157.20 is charged
    care_on = last_month + datetime.timedelta(days=4)
    claims_file = "\n".join(
        [
            ";".join(column.header for column in claims_import.COLUMNS),
            f"{care_on:%Y-%m-%d} 23:15;HAP Zwolle;VISITE;ZK-000123;;8011 AB;12;A;WLZ-BEH",
        ]
    )

    log_in(finance)
    page.goto("/facturatie/import/")
    page.locator("input[type=file][name=file]").set_input_files(
        {"name": "weigeringen.csv", "mimeType": "text/csv", "buffer": claims_file.encode()}
    )
    page.get_by_role("button", name=dutch("Upload and import")).click()
    page.wait_for_url(re.compile(r"/facturatie/import/\d+/$"))

    # Celery is eager here, so the import has finished before this page shows. To watch the
    # progress bar poll, the page is shown once more as if the import were still running: the
    # script then asks the real status endpoint, colours the bar and reloads.
    # Its first poll is answered as if one line of two had been checked: the bar shows 50 %;
    # the next poll gets the real, finished status.
    page.route(re.compile(r"/facturatie/import/\d+/$"), show_as_still_running, times=1)
    page.route(re.compile(r"/status\.json$"), status_half_way, times=1)
    page.reload()
    progress = page.locator("#import-progress")
    progress.locator("[data-progress-bar]").filter(has_text="50%").wait_for()
    progress.locator("[data-progress-bar].bg-success").wait_for()
    assert progress.locator("[data-progress-bar]").inner_text() == "100%"
    assert progress.get_attribute("data-finished") == "1"
    assert progress.locator('[data-field="status_display"]').inner_text() == dutch(
        ClaimImportStatus.IMPORTED.label
    )
    assert progress.locator('[data-field="imported_count"]').inner_text() == "1"
    assert progress.locator('[data-field="error_count"]').inner_text() == "0"
    claim = Claim.objects.get()

    # Draft invoices for last month (the form's default), then the invoice is approved.
    page.goto("/facturatie/facturen/")
    assert page.locator("input[name=period]").input_value() == f"{last_month:%Y-%m}"
    page.get_by_role("button", name=dutch("Make draft invoices")).click()
    page.get_by_role("alert").filter(has_text="1 conceptfactuur met 1 nieuwe regel.").wait_for()
    row = page.locator("tbody tr").filter(has_text=location.organisation.name)
    assert dutch(InvoiceState.DRAFT.label) in row.inner_text()
    assert "157,20" in row.inner_text()
    # Four eyes: another finance user approves the draft.
    page.context.clear_cookies()
    log_in(make_user(Role.FINANCE))
    page.goto("/facturatie/facturen/")
    row = page.locator("tbody tr").filter(has_text=location.organisation.name)
    row.get_by_role("link").click()
    page.get_by_role("button", name=dutch("Approve"), exact=True).click()
    page.get_by_role("button", name=dutch("Confirm"), exact=True).click()
    state = page.get_by_test_id("state")
    state.filter(has_text=dutch(InvoiceState.APPROVED.label)).wait_for()
    invoice = Invoice.objects.get()
    assert invoice.number
    assert invoice.number in page.get_by_role("heading", level=1).inner_text()

    # The invoice list as CSV: the approved invoice's line, with a claim reference only.
    page.goto("/facturatie/facturen/")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert re.fullmatch(r"factuurregels-\d{8}\.csv", download.suggested_filename)
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2
    values = lines[1].split(";")
    assert values[0] == invoice.number
    assert values[3] == location.organisation.name
    assert values[4] == f"{last_month:%Y-%m}"
    assert values[5] == str(claim)
    assert values[6] == care_on.isoformat()
    assert values[9:] == ["VISITE", "78,60", "157,20"]
    assert "ZK-000123" not in "\n".join(lines)


# --- 4. Regions are closed to each other ---------------------------------------------------------


def test_a_user_cannot_open_another_regions_request_by_url(
    page, log_in, flevoland, make_user, location
):
    zwolle_request = AdmissionRequestFactory(in_pre_assessment=True, location=location)
    manager = make_user(Role.LOCATION_MANAGER, region=flevoland)

    log_in(manager)
    response = page.goto(f"/aanvragen/{zwolle_request.pk}/")

    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Pagina niet gevonden"
    assert location.name not in page.content()


def test_a_council_member_cannot_open_another_regions_request_in_the_admin(
    page, log_in, flevoland, make_user, location
):
    zwolle_request = AdmissionRequestFactory(at_council=True, location=location)
    council = make_user(Role.REGIONAL_COUNCIL, region=flevoland, is_staff=True)

    log_in(council)
    page.goto(admin_change_url(zwolle_request))

    # The admin answers an object outside the queryset as a missing one.
    page.wait_for_url("**/admin/")
    assert page.locator(".messagelist").inner_text() == (
        f"Aanvraag tot toelating met ID ‘{zwolle_request.pk}’ bestaat niet. "
        "Misschien is deze verwijderd?"
    )
    assert location.name not in page.content()
    response = page.goto(
        f"/admin/procedure/admissionrequest/{zwolle_request.pk}/actie/decide-council/"
    )
    assert response.status == 404
    assert AdmissionRequest.objects.get(pk=zwolle_request.pk).state == (RequestState.COUNCIL_REVIEW)


# --- 5. Dutch and English ------------------------------------------------------------------------


def test_the_interface_switches_between_dutch_and_english(page, log_in, staff):
    log_in(staff[Role.LOCATION_MANAGER])
    page.goto("/")
    nav = page.locator("#nav")
    open_menu(page)
    assert nav.get_by_role("link", name="Mijn werk").is_visible()

    nav.get_by_role("button", name="EN", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    open_user_menu(page)
    assert nav.get_by_role("link", name="My work").is_visible()
    assert nav.get_by_role("button", name="Log out").is_visible()

    nav.get_by_role("button", name="NL", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    open_user_menu(page)
    assert nav.get_by_role("link", name="Mijn werk").is_visible()
    assert nav.get_by_role("button", name="Uitloggen").is_visible()
