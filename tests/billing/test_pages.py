"""The billing pages (seed 004, 7.2 point 2): claims import, investigation, invoices, exports
and the triage filter list; who may see what, and what the access log records."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.models import AccessLogEntry
from hap_contracting.billing import exports
from hap_contracting.billing.constants import ClaimImportStatus, InvoiceKind, InvoiceState
from hap_contracting.billing.models import (
    AdministrativeCost,
    Claim,
    ClaimImport,
    ClaimImportError,
    Invoice,
)
from hap_contracting.core import pdf, spreadsheets
from hap_contracting.core.roles import Role
from hap_contracting.triage.constants import TriageFilterReason
from hap_contracting.triage.models import TriageFilterEntry
from hap_contracting.triage.services import triage_verdicts_rebuild
from tests.billing.factories import (
    AddressInvestigationFactory,
    ClaimFactory,
    ClaimImportFactory,
    second_finance_user,
)
from tests.contracts.factories import ContractFactory
from tests.organisations.factories import CareLocationFactory, CareOrganisationFactory
from tests.tariffs.factories import insurer_tariffs

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def last_month(today):
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


@pytest.fixture
def tariffs(today):
    AdministrativeCost.objects.create(
        amount=Decimal("25.00"), valid_from=today - relativedelta(years=2)
    )
    return insurer_tariffs(valid_from=today - relativedelta(years=2))


@pytest.fixture
def finance(staff):
    return staff[Role.FINANCE]


@pytest.fixture
def claims(location, tariffs):
    """Three refused visits last month at an uncontracted Wlz-with-treatment location."""
    claim_import = ClaimImportFactory()
    return [ClaimFactory(location=location, claim_import=claim_import) for _ in range(3)]


def generate(client, month: datetime.date):
    return client.post(reverse("billing:invoice_list"), {"period": f"{month:%Y-%m}"})


def act(client, invoice, name, **data):
    """Take a step on the invoice page; approving and sending are confirmed at once (what the
    confirmation page asks is tested on its own). Four eyes: another finance user than the one
    logged in approves, and the one logged in is logged in again after."""
    user = get_user(client)
    if name == "approve":
        client.force_login(second_finance_user(user))
    response = client.post(
        reverse("billing:invoice_detail", args=[invoice.pk]),
        {"form": name, "confirmed": "1", **data},
    )
    client.force_login(user)
    return response


def streamed(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


# --- Who may see what -----------------------------------------------------------------------

FINANCE_PAGES = [
    ("billing:claim_import_list", []),
    ("billing:claim_import_template", []),
    ("billing:invoice_list", []),
    ("billing:invoice_export_csv", []),
    ("billing:invoice_export_xlsx", []),
    ("billing:invoice_list_csv", []),
    ("billing:invoice_list_xlsx", []),
]


@pytest.mark.parametrize(("name", "args"), FINANCE_PAGES)
@pytest.mark.parametrize(
    "role", [Role.LOCATION_MANAGER, Role.SECRETARIAT, Role.REGIONAL_COUNCIL, Role.ADMINISTRATOR]
)
def test_only_finance_opens_the_billing_pages(client, staff, name, args, role):
    client.force_login(staff[role])

    assert client.get(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize(("name", "args"), FINANCE_PAGES)
def test_finance_opens_the_billing_pages(client, finance, name, args):
    client.force_login(finance)

    assert client.get(reverse(name, args=args)).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/facturatie/import/",
        "/facturatie/import/1/status.json",
        "/facturatie/facturen/",
        "/facturatie/facturen/1/factuur.pdf",
        "/onderzoek/",
        "/onderzoek/1/",
        "/triage/filterlijst.csv",
    ],
)
def test_the_billing_pages_need_a_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert reverse("login") in response.url


def test_an_import_and_an_invoice_are_finance_only(client, staff, claims, finance, last_month):
    client.force_login(finance)
    generate(client, last_month)
    invoice = Invoice.objects.get()
    client.force_login(staff[Role.LOCATION_MANAGER])

    assert client.get(f"/facturatie/import/{claims[0].claim_import_id}/").status_code == 403
    assert (
        client.get(f"/facturatie/import/{claims[0].claim_import_id}/status.json").status_code == 403
    )
    assert client.get(f"/facturatie/facturen/{invoice.pk}/").status_code == 403
    assert client.get(f"/facturatie/facturen/{invoice.pk}/factuur.pdf").status_code == 403


def test_the_navigation_shows_billing_to_finance_and_investigations_to_managers(client, staff):
    client.force_login(staff[Role.FINANCE])
    finance_page = client.get(reverse("dashboard:my_work")).content.decode()
    client.force_login(staff[Role.LOCATION_MANAGER])
    manager_page = client.get(reverse("dashboard:my_work")).content.decode()

    assert reverse("billing:invoice_list") in finance_page
    assert reverse("billing:investigation_list") not in finance_page
    assert reverse("billing:investigation_list") in manager_page
    assert reverse("billing:invoice_list") not in manager_page


# --- Claims import --------------------------------------------------------------------------


def claims_file(lines: list[str], name="geweigerd.csv") -> SimpleUploadedFile:
    header = "Datum_tijd;Huisartsenpost;Verrichting;Patiëntreferentie;Postcode;Huisnummer;Redencode"
    return SimpleUploadedFile(name, "\n".join([header, *lines]).encode(), "text/csv")


def care_moment() -> str:
    return (timezone.localtime() - datetime.timedelta(days=3)).strftime("%Y-%m-%d 23:15")


def test_the_progress_of_a_running_import_is_the_share_of_lines_checked(client, finance):
    running = ClaimImportFactory(
        status=ClaimImportStatus.RUNNING, finished_at=None, total_lines=400, processed_lines=100
    )
    counting = ClaimImportFactory(status=ClaimImportStatus.RUNNING, finished_at=None)
    client.force_login(finance)

    def status(claim_import):
        url = reverse("billing:claim_import_status", args=[claim_import.pk])
        return client.get(url).json()

    page = client.get(reverse("billing:claim_import_detail", args=[running.pk]))

    assert status(running)["percent"] == 25
    assert status(counting)["percent"] == ""
    assert 'aria-valuenow="25"' in page.content.decode()


def test_finance_uploads_a_file_and_follows_the_import(
    client, finance, location, django_capture_on_commit_callbacks
):
    upload = claims_file(
        [
            f"{care_moment()};HAP Zwolle;VISITE;ZK-1;8011 AB;{location.house_number};WLZ-BEH",
            f"{care_moment()};Zwolle;CONSULT;ZK-2;8011AB;{location.house_number};WLZ-BEH",
        ]
    )
    client.force_login(finance)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:claim_import_list"), {"file": upload})

    claim_import = ClaimImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("billing:claim_import_detail", args=[claim_import.pk])
    status = client.get(reverse("billing:claim_import_status", args=[claim_import.pk])).json()
    assert status == {
        "status": ClaimImportStatus.IMPORTED,
        "status_display": str(ClaimImportStatus.IMPORTED.label),
        "processed_lines": 2,
        "total_lines": 2,
        "percent": 100,
        "error_count": 0,
        "imported_count": 2,
        "finished": True,
        "message": claim_import.message,
    }
    assert Claim.objects.filter(location=location).count() == 2
    page = client.get(response.url).content.decode()
    assert 'src="/static/js/import-progress.js"' in page
    assert 'data-status-url="/facturatie/import/' in page
    assert 'data-finished="1"' in page
    assert AccessLogEntry.objects.filter(user=finance, action=AccessAction.IMPORT).exists()


def test_every_bad_line_is_listed_with_line_column_and_reason(
    client, finance, location, django_capture_on_commit_callbacks
):
    upload = claims_file(
        [
            f"{care_moment()};HAP Zwolle;VISITE;ZK-1;8011 AB;12;WLZ-BEH",
            f"{care_moment()};HAP Zwolle;ONBEKEND;ZK-2;8011 AB;12;WLZ-BEH",
            f"{care_moment()};HAP Zwolle;VISITE;ZK-3;nergens;12;WLZ-BEH",
        ]
    )
    client.force_login(finance)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("billing:claim_import_list"), {"file": upload})
    claim_import = ClaimImport.objects.get()

    response = client.get(reverse("billing:claim_import_detail", args=[claim_import.pk]))

    assert claim_import.status == ClaimImportStatus.REJECTED
    assert Claim.objects.count() == 0
    errors = [(e.line_number, e.column) for e in response.context["page"].object_list]
    assert errors == [(3, "verrichting"), (4, "postcode")]
    content = response.content.decode()
    for error in ClaimImportError.objects.all():
        assert error.reason in content
    assert 'data-finished="1"' in content
    assert "ZK-2" not in content


def test_a_running_import_reports_its_progress_so_far(client, finance):
    claim_import = ClaimImportFactory(
        status=ClaimImportStatus.RUNNING, processed_lines=20000, error_count=3, finished_at=None
    )
    client.force_login(finance)

    status = client.get(reverse("billing:claim_import_status", args=[claim_import.pk])).json()
    page = client.get(reverse("billing:claim_import_detail", args=[claim_import.pk]))

    assert status["processed_lines"] == 20000
    assert status["error_count"] == 3
    assert status["finished"] is False
    assert 'data-finished="0"' in page.content.decode()


def test_a_file_that_is_not_csv_or_xlsx_is_refused_on_the_field(client, finance):
    client.force_login(finance)

    response = client.post(
        reverse("billing:claim_import_list"),
        {"file": SimpleUploadedFile("claims.pdf", b"%PDF-1.4", "application/pdf")},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ClaimImport.objects.exists()


def test_the_template_and_the_expected_columns_are_offered(client, finance):
    client.force_login(finance)

    template = client.get(reverse("billing:claim_import_template"))
    page = client.get(reverse("billing:claim_import_list")).content.decode()

    assert template["Content-Disposition"].startswith("attachment;")
    assert template.content.decode("utf-8-sig").startswith(
        "datum_tijd;huisartsenpost;verrichting;patientreferentie;bsn;postcode;huisnummer;"
    )
    for header in ("datum_tijd", "patientreferentie", "redencode", "burgerservicenummer"):
        assert header in page


def test_the_import_list_runs_a_constant_number_of_queries(
    client, finance, django_assert_max_num_queries
):
    for _ in range(20):
        ClaimImportFactory()
    client.force_login(finance)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("billing:claim_import_list"))

    assert len(response.context["page"].object_list) == 20


# --- Investigation --------------------------------------------------------------------------


@pytest.fixture
def unknown_address(zwolle, tariffs):
    """Two refused claims at an address nobody knows yet, with its investigation."""
    post = zwolle.posts.get()
    investigation = AddressInvestigationFactory(post=post, postcode="8011 AB", house_number=77)
    for reference in ("ZK-77-1", "ZK-77-2"):
        ClaimFactory(
            location=None,
            post=post,
            postcode="8011 AB",
            house_number=77,
            house_number_addition="",
            patient_reference=reference,
        )
    return investigation


def test_a_location_manager_sees_only_the_own_regions_investigations(
    client, staff, unknown_address, flevoland
):
    other = AddressInvestigationFactory(post=flevoland.posts.get(), postcode="1311 AB")
    client.force_login(staff[Role.LOCATION_MANAGER])

    response = client.get(reverse("billing:investigation_list"))

    assert list(response.context["page"].object_list) == [unknown_address]
    assert response.context["page"].object_list[0].claim_count == 2
    assert client.get(reverse("billing:investigation_detail", args=[other.pk])).status_code == 404


@pytest.mark.parametrize("role", [Role.FINANCE, Role.SECRETARIAT, Role.QUALITY_TEAM])
def test_others_do_not_investigate(client, staff, unknown_address, role):
    client.force_login(staff[role])

    assert client.get(reverse("billing:investigation_list")).status_code == 403


def test_open_investigations_come_first(client, staff, unknown_address, today):
    post = unknown_address.post
    told = AddressInvestigationFactory(
        post=post,
        opened_on=today - relativedelta(months=2),
        notified_on=today,
        notified_how="letter",
    )
    client.force_login(staff[Role.PROGRAMME_MANAGER])

    response = client.get(reverse("billing:investigation_list"))

    assert list(response.context["page"].object_list) == [unknown_address, told]


def test_the_investigation_list_counts_claims_in_a_constant_number_of_queries(
    client, staff, zwolle, django_assert_max_num_queries, tariffs
):
    post = zwolle.posts.get()
    for number in range(20):
        AddressInvestigationFactory(post=post, house_number=900 + number)
        ClaimFactory(location=None, post=post, postcode="8011 AB", house_number=900 + number)
    client.force_login(staff[Role.LOCATION_MANAGER])

    # 8: the page's 7 and the menu's work count (cached for the next pages).
    with django_assert_max_num_queries(8):
        response = client.get(reverse("billing:investigation_list"))

    assert [i.claim_count for i in response.context["page"].object_list] == [1] * 20


def test_the_location_manager_records_location_organisation_and_notification(
    client, staff, unknown_address, today
):
    location = CareLocationFactory(
        hap_post=unknown_address.post, organisation=None, postcode="8011 AB", house_number=77
    )
    organisation = CareOrganisationFactory(name="Zorggroep Noord")
    manager = staff[Role.LOCATION_MANAGER]
    client.force_login(manager)
    url = reverse("billing:investigation_detail", args=[unknown_address.pk])

    page = client.get(url)
    located = client.post(
        url, {"form": "location", "location": location.pk, "organisation": organisation.pk}
    )
    told = client.post(
        url,
        {
            "form": "notification",
            "notified_on": today.isoformat(),
            "notified_how": "letter",
            "notes": "Brief aan directie",
        },
    )

    assert page.status_code == 200
    assert list(page.context["locations"]) == [location]
    assert located.status_code == 302 and told.status_code == 302
    unknown_address.refresh_from_db()
    location.refresh_from_db()
    assert unknown_address.location == location
    assert unknown_address.resolved_by == manager
    assert location.organisation == organisation
    assert unknown_address.notified_on == today
    assert unknown_address.notified_how == "letter"
    assert Claim.objects.filter(location=location).count() == 2


def test_a_notification_in_the_future_is_refused_on_its_field(
    client, staff, unknown_address, today
):
    location = CareLocationFactory(
        hap_post=unknown_address.post, postcode="8011 AB", house_number=77
    )
    client.force_login(staff[Role.LOCATION_MANAGER])
    url = reverse("billing:investigation_detail", args=[unknown_address.pk])
    client.post(url, {"form": "location", "location": location.pk})

    response = client.post(
        url,
        {
            "form": "notification",
            "notified_on": (today + datetime.timedelta(days=1)).isoformat(),
            "notified_how": "email",
        },
    )

    assert response.status_code == 200
    assert response.context["notification_form"].errors["notified_on"]


def test_without_a_registered_location_the_secretariat_is_asked_to_register_it(
    client, staff, unknown_address
):
    client.force_login(staff[Role.LOCATION_MANAGER])

    response = client.get(reverse("billing:investigation_detail", args=[unknown_address.pk]))

    assert 'data-testid="no-location"' in response.content.decode()


def test_reading_the_claims_at_an_address_is_logged(client, staff, unknown_address):
    manager = staff[Role.LOCATION_MANAGER]
    client.force_login(manager)

    response = client.get(reverse("billing:investigation_detail", args=[unknown_address.pk]))

    assert "ZK-77-1" in response.content.decode()
    entry = AccessLogEntry.objects.get(action=AccessAction.VIEW)
    assert entry.user == manager
    assert entry.roles == Role.LOCATION_MANAGER
    assert entry.patient_references == "ZK-77-1, ZK-77-2"
    assert "8011 AB 77" in entry.what


# --- Invoices -------------------------------------------------------------------------------


def test_making_one_invoice_says_so_in_the_singular(client, finance, claims, last_month):
    client.force_login(finance)

    response = client.post(
        reverse("billing:invoice_list"), {"period": f"{last_month:%Y-%m}"}, follow=True
    )

    said = [str(message) for message in response.context["messages"]]
    assert "1 conceptfactuur met 3 nieuwe regels." in said


def test_generate_approve_send_and_credit_through_the_pages(
    client, finance, claims, last_month, location, invoice_sender
):
    client.force_login(finance)

    generated = generate(client, last_month)
    invoice = Invoice.objects.get()
    draft = client.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    approved = act(client, invoice, "approve")
    sent = act(client, invoice, "send")
    invoice = Invoice.objects.get(pk=invoice.pk)  # the state field is protected: no refresh
    sent_page = client.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    refused_delete = act(client, invoice, "delete")
    credited = act(client, invoice, "credit", reason="Organisatie had toch een contract")
    credit = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    after = client.get(reverse("billing:invoice_detail", args=[invoice.pk]))

    assert generated.status_code == 302
    # Four eyes: who made the draft is not offered its approval (another finance user is).
    assert set(draft.context["forms"]) == {"delete"}
    # 3 visits at 2 × 78,60 plus € 25 administrative costs
    assert invoice.total == Decimal("496.60")
    assert "€ 496,60" in draft.content.decode()
    assert "vrijgesteld" in draft.content.decode().lower()
    assert approved.status_code == 302 and sent.status_code == 302
    assert invoice.state == InvoiceState.SENT
    assert invoice.number == f"{timezone.localdate().year}-00001"
    assert set(sent_page.context["forms"]) == {"credit", "resend"}
    assert refused_delete.status_code == 200
    assert "Alleen een concept kan worden verwijderd" in refused_delete.content.decode()
    assert Invoice.objects.filter(pk=invoice.pk, state=InvoiceState.SENT).exists()
    assert credited.status_code == 302
    assert credited.url == reverse("billing:invoice_detail", args=[credit.pk])
    assert credit.corrects == invoice and credit.total == Decimal("-496.60")
    assert set(after.context["forms"]) == {"resend"}
    assert 'data-testid="final"' in after.content.decode()
    assert TriageFilterEntry.objects.filter(location=location, delisted_on__isnull=True).exists()


def test_a_month_billed_again_after_a_credit_note_says_so(
    client, finance, claims, last_month, invoice_sender
):
    client.force_login(finance)
    generate(client, last_month)
    invoice = Invoice.objects.get()
    act(client, invoice, "approve")
    act(client, invoice, "send")
    act(client, Invoice.objects.get(pk=invoice.pk), "credit", reason="Verkeerd tarief")
    act(client, Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE), "approve")

    generate(client, last_month)
    again = Invoice.objects.get(kind=InvoiceKind.INVOICE, state=InvoiceState.DRAFT)
    page = client.get(reverse("billing:invoice_detail", args=[again.pk]))

    assert again.billing_round == 1
    assert 'data-testid="billing-round"' in page.content.decode()
    assert "opnieuw" in page.content.decode()


def test_making_a_month_again_says_which_draft_lines_were_taken_off(
    client, finance, claims, last_month, location
):
    client.force_login(finance)
    generate(client, last_month)
    ContractFactory(
        location=location, start_date=last_month, end_date=last_month + relativedelta(years=2)
    )

    response = client.post(
        reverse("billing:invoice_list"), {"period": f"{last_month:%Y-%m}"}, follow=True
    )

    assert "3 regels zijn van de concepten gehaald" in response.content.decode()
    assert not Invoice.objects.exists()


def test_approving_a_draft_that_was_removed_meanwhile_says_why(
    client, finance, claims, last_month, location
):
    client.force_login(finance)
    generate(client, last_month)
    draft = Invoice.objects.get()
    ContractFactory(
        location=location, start_date=last_month, end_date=last_month + relativedelta(years=2)
    )
    generate(client, last_month)  # the contract empties the draft, which is removed

    response = act(client, draft, "approve")
    page = client.get(response.url)

    assert response.status_code == 302
    assert response.url == reverse("billing:invoice_list")
    assert "Dit concept bestaat niet meer" in page.content.decode()


def test_a_draft_can_be_deleted(client, finance, claims, last_month):
    client.force_login(finance)
    generate(client, last_month)

    response = act(client, Invoice.objects.get(), "delete")

    assert response.status_code == 302
    assert not Invoice.objects.exists()


def test_a_month_that_has_not_ended_is_refused_on_the_field(client, finance, today):
    client.force_login(finance)

    response = generate(client, today)

    assert response.status_code == 200
    assert response.context["generate_form"].errors["period"]


def test_the_invoice_list_filters_and_shows_no_patient_data(
    client, finance, claims, last_month, location
):
    other = ClaimFactory(
        location=CareLocationFactory(hap_post=location.hap_post),
        claim_import=claims[0].claim_import,
    )
    client.force_login(finance)
    generate(client, last_month)

    everything = client.get(reverse("billing:invoice_list"))
    by_name = client.get(reverse("billing:invoice_list"), {"q": location.organisation.name})
    by_state = client.get(reverse("billing:invoice_list"), {"state": InvoiceState.SENT})
    by_month = client.get(reverse("billing:invoice_list"), {"month": f"{last_month:%Y-%m}"})

    assert len(everything.context["page"].object_list) == 2
    assert [i.organisation for i in by_name.context["page"].object_list] == [location.organisation]
    assert list(by_state.context["page"].object_list) == []
    assert len(by_month.context["page"].object_list) == 2
    content = everything.content.decode()
    for claim in [*claims, other]:
        assert claim.patient_reference not in content


def test_the_invoice_list_runs_a_constant_number_of_queries(
    client, finance, zwolle, tariffs, last_month, django_assert_max_num_queries
):
    claim_import = ClaimImportFactory()
    for _ in range(15):
        ClaimFactory(
            location=CareLocationFactory(hap_post=zwolle.posts.get()), claim_import=claim_import
        )
    client.force_login(finance)
    generate(client, last_month)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("billing:invoice_list"))

    assert len(response.context["page"].object_list) == 15


def test_the_invoice_shows_claim_references_never_patient_references_and_logs_the_view(
    client, finance, claims, last_month
):
    client.force_login(finance)
    generate(client, last_month)
    invoice = Invoice.objects.get()

    content = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()

    for claim in claims:
        assert claim.reference in content
        assert claim.patient_reference not in content
    entry = AccessLogEntry.objects.get(action=AccessAction.VIEW)
    assert entry.patient_references == ", ".join(sorted(c.patient_reference for c in claims))


# --- Exports --------------------------------------------------------------------------------


@pytest.fixture
def formula_invoice(client, finance, location, claims, last_month):
    organisation = location.organisation
    type(organisation).objects.filter(pk=organisation.pk).update(
        name='=HYPERLINK("http://evil.example","klik")'
    )
    client.force_login(finance)
    generate(client, last_month)
    return Invoice.objects.get()


def test_the_csv_export_has_one_escaped_row_per_line_and_no_patient_data(
    client, finance, formula_invoice, claims
):
    response = client.get(reverse("billing:invoice_export_csv"))

    text = streamed(response)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0] == spreadsheets.headers(exports.INVOICE_LINE_COLUMNS)
    assert len(rows) == 1 + len(claims)
    assert {row[3] for row in rows[1:]} == {'\'=HYPERLINK("http://evil.example","klik")'}
    assert sorted(row[5] for row in rows[1:]) == sorted(c.reference for c in claims)
    assert {row[11] for row in rows[1:]} == {"157,20"}
    for claim in claims:
        assert claim.patient_reference not in text
    entry = AccessLogEntry.objects.get(action=AccessAction.EXPORT)
    assert entry.user == finance
    assert "CSV" in entry.what


def test_an_export_logs_every_patient_however_many_there_are(
    client, finance, formula_invoice, claims, monkeypatch, make_user
):
    from hap_contracting.audit.models import AccessLogReference
    from hap_contracting.billing.views import invoices as invoice_views

    monkeypatch.setattr(invoice_views, "EXPORT_LOG_SHOWN_REFERENCES", 2)

    streamed(client.get(reverse("billing:invoice_export_csv")))

    entry = AccessLogEntry.objects.get(action=AccessAction.EXPORT)
    everyone = sorted(claim.patient_reference for claim in claims)
    assert entry.patient_references == ", ".join(everyone[:2])
    assert entry.what.startswith("3 patiënten")
    assert (
        sorted(
            AccessLogReference.objects.filter(entry=entry).values_list(
                "patient_reference", flat=True
            )
        )
        == everyone
    )
    client.force_login(make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True))
    found = client.post(
        reverse("admin:audit_accesslogentry_changelist"), {"q": everyone[2]}, follow=True
    )
    assert entry in found.context["cl"].result_list


def test_the_xlsx_export_escapes_formulas_and_keeps_numbers(client, formula_invoice, claims):
    from openpyxl import load_workbook

    response = client.get(reverse("billing:invoice_export_xlsx"))

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == spreadsheets.headers(exports.INVOICE_LINE_COLUMNS)
    assert len(rows) == 1 + len(claims)
    assert rows[1][3] == '\'=HYPERLINK("http://evil.example","klik")'
    assert rows[1][11] == pytest.approx(157.20)
    cells = repr(rows)
    for claim in claims:
        assert claim.patient_reference not in cells
    assert AccessLogEntry.objects.filter(action=AccessAction.EXPORT, what__contains="XLSX").exists()


def test_finance_bound_to_one_region_does_not_bill(client, formula_invoice, make_user, zwolle):
    regional = make_user(Role.FINANCE, region=zwolle)
    client.force_login(regional)

    pages = [
        client.get(reverse("billing:invoice_list")),
        client.get(reverse("billing:invoice_export_csv")),
        client.get(reverse("billing:invoice_detail", args=[formula_invoice.pk])),
        client.get(reverse("billing:claim_import_list")),
    ]
    generated = client.post(reverse("billing:invoice_list"), {"period": "2026-10"})

    assert [page.status_code for page in pages] == [403, 403, 403, 403]
    assert generated.status_code == 403
    assert "Facturatie" not in client.get(reverse("dashboard:my_work")).content.decode()


def test_the_export_follows_the_list_filters(client, finance, formula_invoice):
    text = streamed(client.get(reverse("billing:invoice_export_csv"), {"state": "sent"}))

    assert len(text.strip().splitlines()) == 1


def test_the_invoice_line_export_has_its_columns_in_this_order():
    assert [column.lookup for column in exports.INVOICE_LINE_COLUMNS] == [
        "invoice__number",
        "invoice__kind",
        "invoice__state",
        "invoice__organisation__name",
        "invoice__period",
        "claim_reference",
        "care_on",
        "location__name",
        "location__postcode",
        "act__code",
        "tariff",
        "amount",
    ]


def test_escape_formula_leaves_numbers_and_plain_text_alone():
    assert spreadsheets.escape_formula("-2+3") == "'-2+3"
    assert spreadsheets.escape_formula("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheets.escape_formula("De Hofstee") == "De Hofstee"
    assert spreadsheets.escape_formula(Decimal("-52.40")) == Decimal("-52.40")


def test_the_invoice_pdf_is_a_pdf_without_patient_data_and_is_logged(
    client, finance, claims, last_month, monkeypatch
):
    rendered = []
    render = pdf.render_to_string

    def spy(*args, **kwargs):
        rendered.append(render(*args, **kwargs))
        return rendered[-1]

    monkeypatch.setattr(pdf, "render_to_string", spy)
    client.force_login(finance)
    generate(client, last_month)
    invoice = Invoice.objects.get()

    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"%PDF")
    assert 'href="/static/css/invoice-pdf.css"' in rendered[0]
    for claim in claims:
        assert claim.reference in rendered[0]
        assert claim.patient_reference not in rendered[0]
    assert AccessLogEntry.objects.filter(action=AccessAction.EXPORT, what__contains="PDF").exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/static/css/invoice-pdf.css",
        "file:///etc/passwd",
        "https://app.invalid/media/claim-imports/x.csv",
        "https://app.invalid/static/../config/settings/base.py",
        "https://app.invalid/static/css/does-not-exist.css",
        "data:text/css,body{}",
    ],
)
def test_the_pdf_url_fetcher_refuses_anything_but_a_static_file(url):
    with pytest.raises(ValueError):
        pdf.static_url_fetcher()(url)


def test_the_pdf_url_fetcher_serves_the_apps_static_files():
    response = pdf.static_url_fetcher()("https://app.invalid/static/css/invoice-pdf.css")

    assert b"@page" in response.read()
    assert response.content_type == "text/css"


# --- Triage filter list ---------------------------------------------------------------------


@pytest.fixture
def listed(location, flevoland, today):
    far = CareLocationFactory(hap_post=flevoland.posts.get(), postcode="1311 AB", name="Almere")
    TriageFilterEntry.objects.create(
        location=location, reason=TriageFilterReason.BILLED_WITHOUT_CONTRACT, listed_on=today
    )
    TriageFilterEntry.objects.create(
        location=far, reason=TriageFilterReason.GRACE_PERIOD_ENDED, listed_on=today
    )
    TriageFilterEntry.objects.create(
        location=CareLocationFactory(hap_post=location.hap_post, name="Van de lijst"),
        reason=TriageFilterReason.GRACE_PERIOD_ENDED,
        listed_on=today - relativedelta(months=3),
        delisted_on=today,
        delisted_because="contract",
    )
    triage_verdicts_rebuild()  # the entries were written without the services
    return location, far


def csv_names(response) -> set[str]:
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    return {row[3] for row in rows[1:]}


def test_the_triage_list_csv_is_scoped_to_the_region_of_a_location_manager(client, staff, listed):
    location, far = listed
    client.force_login(staff[Role.LOCATION_MANAGER])
    manager_csv = client.get(reverse("triage:triage_list_csv"))
    client.force_login(staff[Role.FINANCE])
    finance_csv = client.get(reverse("triage:triage_list_csv"))

    assert manager_csv["Content-Disposition"].startswith("attachment;")
    assert csv_names(manager_csv) == {location.name}
    assert csv_names(finance_csv) == {location.name, far.name}
    exports_logged = AccessLogEntry.objects.filter(
        action=AccessAction.EXPORT, what__contains="triage"
    )
    assert set(exports_logged.values_list("user", flat=True)) == {
        staff[Role.LOCATION_MANAGER].pk,
        staff[Role.FINANCE].pk,
    }


def test_the_triage_page_shows_the_history(client, staff, listed):
    client.force_login(staff[Role.LOCATION_MANAGER])

    response = client.get(reverse("triage:triage_list"))

    names = [entry.location.name for entry in response.context["page"].object_list]
    assert set(names) == {listed[0].name, "Van de lijst"}


@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.QUALITY_TEAM])
def test_others_do_not_download_the_triage_list(client, staff, role):
    client.force_login(staff[role])

    assert client.get(reverse("triage:triage_list_csv")).status_code == 403


def test_the_triage_page_runs_a_constant_number_of_queries(
    client, staff, zwolle, today, django_assert_max_num_queries
):
    for _ in range(20):
        TriageFilterEntry.objects.create(
            location=CareLocationFactory(hap_post=zwolle.posts.get()),
            reason=TriageFilterReason.BILLED_WITHOUT_CONTRACT,
            listed_on=today,
        )
    client.force_login(staff[Role.LOCATION_MANAGER])

    # 8: the page's 7 and the menu's work count (cached for the next pages).
    with django_assert_max_num_queries(8):
        response = client.get(reverse("triage:triage_list"))

    assert len(response.context["page"].object_list) == 20


# --- Admin ----------------------------------------------------------------------------------


def test_only_administrators_read_the_access_log(client, staff, finance):
    AccessLogEntry.objects.create(user=finance, roles="finance", action="view", what="x")
    finance.is_staff = True
    finance.save()
    url = reverse("admin:audit_accesslogentry_changelist")

    client.force_login(staff[Role.ADMINISTRATOR])
    as_administrator = client.get(url)
    client.force_login(finance)
    as_finance = client.get(url)

    assert as_administrator.status_code == 200
    assert as_finance.status_code == 403
    assert client.get(reverse("admin:billing_administrativecost_changelist")).status_code == 200


def test_recording_the_organisation_of_an_address_says_to_tell_them_next(
    client, staff, unknown_address
):
    location = CareLocationFactory(
        hap_post=unknown_address.post, organisation=None, postcode="8011 AB", house_number=77
    )
    organisation = CareOrganisationFactory(name="Zorggroep Noord")
    client.force_login(staff[Role.LOCATION_MANAGER])
    url = reverse("billing:investigation_detail", args=[unknown_address.pk])

    response = client.post(
        url,
        {"form": "location", "location": location.pk, "organisation": organisation.pk},
        follow=True,
    )

    said = " ".join(str(message) for message in response.context["messages"])
    assert f"De organisatie op {unknown_address} is vastgelegd." in said
    assert "Hierna: laat hen weten" in said


# --- Approving and sending are confirmed first ------------------------------------------------


def post_step(client, invoice, name, **data):
    return client.post(reverse("billing:invoice_detail", args=[invoice.pk]), {"form": name, **data})


def test_approving_an_invoice_is_confirmed_first(client, finance, claims, last_month):
    client.force_login(finance)
    generate(client, last_month)
    invoice = Invoice.objects.get()
    client.force_login(second_finance_user(finance))

    first = post_step(client, invoice, "approve")
    unchanged = Invoice.objects.get(pk=invoice.pk)
    confirmed = post_step(client, invoice, "approve", confirmed="1")
    approved = Invoice.objects.get(pk=invoice.pk)

    assert first.status_code == 200
    assert "triagefilterlijst" in first.context["confirmation"].consequence
    assert "Bevestigen" in first.content.decode() and "Terug" in first.content.decode()
    assert unchanged.state == InvoiceState.DRAFT and not unchanged.number
    assert confirmed.status_code == 302
    assert approved.state == InvoiceState.APPROVED and approved.number


def test_sending_an_invoice_is_confirmed_first_and_back_returns_to_the_invoice(
    client, finance, claims, last_month, invoice_sender
):
    client.force_login(finance)
    generate(client, last_month)
    invoice = Invoice.objects.get()
    act(client, invoice, "approve")

    first = post_step(client, invoice, "send")
    back = post_step(client, invoice, "send", back="1")
    after_back = Invoice.objects.get(pk=invoice.pk)
    post_step(client, invoice, "send", confirmed="1")

    assert "creditnota" in first.context["confirmation"].consequence
    assert back.status_code == 302
    assert back["Location"] == reverse("billing:invoice_detail", args=[invoice.pk])
    assert after_back.state == InvoiceState.APPROVED and after_back.sent_at is None
    assert Invoice.objects.get(pk=invoice.pk).state == InvoiceState.SENT


def test_deleting_a_draft_asks_no_confirmation(client, finance, claims, last_month):
    client.force_login(finance)
    generate(client, last_month)

    response = post_step(client, Invoice.objects.get(), "delete")

    assert response.status_code == 302
    assert not Invoice.objects.exists()
