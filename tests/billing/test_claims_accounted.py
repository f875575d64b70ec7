"""Every claim accounted for: which insurer reason codes are billed is finance's data; each
import says what became of every claim (counts that add up, and the list), in SQL and without a
patient in clear; claims that arrive for a month already invoiced go on a supplementary invoice."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.models import AccessLogEntry
from hap_contracting.billing.constants import ClaimImportStatus, ClaimOutcome, InvoiceState
from hap_contracting.billing.models import AdministrativeCost, BillableReasonCode, Claim, Invoice
from hap_contracting.billing.selectors import claim_import_summary
from hap_contracting.billing.services import invoices as billing
from hap_contracting.billing.services.claims_import import (
    claim_import_create,
    claim_import_run,
    template_csv,
)
from hap_contracting.core.roles import Role
from tests.billing.factories import ClaimFactory, ClaimImportFactory, second_finance_user
from tests.contracts.factories import ContractFactory
from tests.organisations.factories import CareLocationFactory
from tests.tariffs.factories import insurer_tariffs

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_sender")]

OCTOBER = datetime.date(2026, 10, 1)
HEADER = "datum_tijd;huisartsenpost;verrichting;patientreferentie;postcode;huisnummer;redencode"


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE)


@pytest.fixture
def tariffs(db):
    AdministrativeCost.objects.create(amount=Decimal("25.00"), valid_from=OCTOBER)
    return insurer_tariffs(datetime.date(2026, 1, 1))


@pytest.fixture
def treatment(zwolle):
    """A Wlz location with treatment of a known organisation, without a contract."""
    return CareLocationFactory(
        hap_post=zwolle.posts.get(), postcode="8011 AB", house_number=12, house_number_addition=""
    )


def import_lines(finance, lines, name="weigeringen.csv"):
    content = "\n".join([HEADER, *lines]).encode()
    claim_import = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile(name, content, "text/csv")
    )
    return claim_import_run(claim_import.pk)


def line(patient, code="WLZ-BEH", when="2026-10-05 23:15", house=12):
    return f"{when};HAP Zwolle;VISITE;{patient};8011 AB;{house};{code}"


# --- Reason codes ---------------------------------------------------------------------------


def test_the_example_codes_are_seeded_and_marked_as_examples():
    codes = dict(BillableReasonCode.objects.values_list("code", "is_example"))

    assert codes["WLZ-BEH"] is True
    assert all(codes.values())
    assert all(
        description.startswith("Voorbeeld")
        for description in BillableReasonCode.objects.values_list("description", flat=True)
    )


def test_a_claim_with_another_reason_code_is_imported_but_not_billed_and_says_so(
    finance, treatment, tariffs
):
    claim_import = import_lines(
        finance, [line("ZK-1"), line("ZK-2", code="ANDERS"), line("ZK-3", code="wlz-beh")]
    )

    result = billing.invoices_generate(by=finance, period=OCTOBER)

    assert claim_import.status == ClaimImportStatus.IMPORTED
    assert claim_import.imported_count == 3
    assert "1 heeft een redencode die niet wordt gefactureerd" in claim_import.message
    billed = Invoice.objects.get().lines.values_list("claim__patient_reference", flat=True)
    assert sorted(billed) == ["ZK-1", "ZK-3"]  # the code compared without case
    assert result["lines"] == 2
    counts = dict(claim_import_summary(claim_import).counts)
    assert counts[ClaimOutcome.REASON_NOT_BILLABLE] == 1
    assert counts[ClaimOutcome.BILLED] == 2


def test_a_code_finance_adds_is_billed_from_then_on(finance, treatment, tariffs):
    import_lines(finance, [line("ZK-1", code="ZZ-99")])
    assert billing.invoices_generate(by=finance, period=OCTOBER)["lines"] == 0

    BillableReasonCode.objects.create(code="ZZ-99")

    assert billing.invoices_generate(by=finance, period=OCTOBER)["lines"] == 1


def test_finance_keeps_the_reason_codes_in_the_admin(client, make_user):
    finance = make_user(Role.FINANCE, is_staff=True)
    client.force_login(finance)
    add = reverse("admin:billing_billablereasoncode_add")

    created = client.post(add, {"code": " wlz-9 ", "description": "Wlz met behandeling"})
    twice = client.post(add, {"code": "WLZ-9", "description": "nog eens"})
    listed = client.get(reverse("admin:billing_billablereasoncode_changelist"))

    assert created.status_code == 302
    assert BillableReasonCode.objects.filter(code="WLZ-9", is_example=False).count() == 1
    assert twice.status_code == 200
    assert "code" in twice.context["adminform"].form.errors
    assert listed.status_code == 200


def test_the_claims_file_has_a_reason_code_column():
    header = template_csv().splitlines()[0]

    assert "redencode" in header


# --- What became of every claim -------------------------------------------------------------


@pytest.fixture
def every_outcome(finance, zwolle, treatment, tariffs):
    """One claim of each outcome in one import, last October; ``billed`` invoiced."""
    post = zwolle.posts.get()
    claim_import = ClaimImportFactory()
    care_at = timezone.make_aware(datetime.datetime(2026, 10, 5, 23, 15))  # noqa: DTZ001

    def claim(location, **kwargs):
        return ClaimFactory(
            claim_import=claim_import,
            location=location,
            post=post,
            care_at=care_at,
            care_on=care_at.date(),
            **kwargs,
        )

    contracted = CareLocationFactory(hap_post=post, postcode="8011 AC")
    ContractFactory(location=contracted, start_date=datetime.date(2026, 1, 1))
    billed = claim(treatment)
    claims = {
        ClaimOutcome.BILLED: billed,
        ClaimOutcome.CONTRACTED: claim(contracted),
        ClaimOutcome.NO_TREATMENT_ADMISSION: claim(
            CareLocationFactory(hap_post=post, wlz_treatment_admission=False)
        ),
        ClaimOutcome.UNDER_INVESTIGATION: claim(None, postcode="8011 ZZ", house_number=9),
        ClaimOutcome.REASON_NOT_BILLABLE: claim(treatment, reason_code="ANDERS"),
    }
    billing.invoices_generate(by=finance, period=OCTOBER)
    # Arrived after the month was made: not billed yet. And a repeat of the billed claim.
    claims[ClaimOutcome.NOT_BILLED_YET] = claim(treatment)
    claims[ClaimOutcome.DUPLICATE] = claim(
        treatment, duplicate_of=billed, patient_reference=billed.patient_reference
    )
    return claim_import, claims


def test_every_claim_has_exactly_one_outcome_and_the_counts_add_up(
    every_outcome, django_assert_num_queries
):
    claim_import, claims = every_outcome

    with django_assert_num_queries(1):
        summary = claim_import_summary(claim_import)

    assert dict(summary.counts) == dict.fromkeys(ClaimOutcome, 1)
    assert summary.total == Claim.objects.filter(claim_import=claim_import).count() == 7
    outcome_of = dict(summary.claims.values_list("pk", "outcome"))
    assert outcome_of == {claim.pk: outcome.value for outcome, claim in claims.items()}


def test_a_billed_claim_names_its_invoice(every_outcome):
    claim_import, claims = every_outcome
    invoice = Invoice.objects.get()

    listed = {claim.pk: claim for claim in claim_import_summary(claim_import).claims}

    assert listed[claims[ClaimOutcome.BILLED].pk].invoice_id == invoice.pk
    assert listed[claims[ClaimOutcome.NOT_BILLED_YET].pk].invoice_id is None


def test_the_import_page_shows_the_outcomes_without_patient_data_and_logs_the_read(
    client, finance, every_outcome
):
    claim_import, claims = every_outcome
    Claim.objects.filter(pk=claims[ClaimOutcome.BILLED].pk).update(bsn_hash="f" * 64)
    client.force_login(finance)

    response = client.get(reverse("billing:claim_import_detail", args=[claim_import.pk]))

    page = response.content.decode()
    assert 'data-testid="outcomes"' in page
    assert 'data-testid="outcomes-total">7<' in page
    assert "Redencode niet gefactureerd" in page
    for claim in claims.values():
        assert claim.reference in page
        assert claim.patient_reference not in page
    assert "f" * 64 not in page
    entry = AccessLogEntry.objects.get(action=AccessAction.VIEW)
    assert entry.user == finance
    assert claims[ClaimOutcome.BILLED].patient_reference in entry.patient_references


def test_the_import_page_runs_a_constant_number_of_queries(
    client, finance, treatment, tariffs, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small, large = ClaimImportFactory(), ClaimImportFactory()
    ClaimFactory(claim_import=small, location=treatment)
    for _ in range(12):
        ClaimFactory(claim_import=large, location=treatment)
    client.force_login(finance)
    client.get(reverse("billing:claim_import_detail", args=[small.pk]))  # the session warmed up

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("billing:claim_import_detail", args=[small.pk]))
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(reverse("billing:claim_import_detail", args=[large.pk]))


def test_a_repeated_claim_in_a_later_file_is_a_duplicate_and_not_billed(
    finance, treatment, tariffs
):
    import_lines(finance, [line("ZK-1")])
    later = import_lines(finance, [line("ZK-1"), line("ZK-2")], name="oktober-bijgewerkt.csv")

    billing.invoices_generate(by=finance, period=OCTOBER)

    counts = dict(claim_import_summary(later).counts)
    assert (counts[ClaimOutcome.DUPLICATE], counts[ClaimOutcome.BILLED]) == (1, 1)
    assert Invoice.objects.get().lines.count() == 2  # ZK-1 once, ZK-2


# --- Supplementary invoices -----------------------------------------------------------------


def test_a_supplementary_invoice_is_approved_with_its_own_number_and_listed_as_such(
    client, finance, treatment, tariffs
):
    checker = second_finance_user(finance)
    import_lines(finance, [line("ZK-1")])
    billing.invoices_generate(by=finance, period=OCTOBER)
    first = billing.invoice_approve(invoice=Invoice.objects.get(), by=checker)
    import_lines(finance, [line("ZK-2", when="2026-10-28 22:00")], name="laat.csv")

    result = billing.invoices_generate(by=finance, period=OCTOBER)
    supplementary = Invoice.objects.get(state=InvoiceState.DRAFT)
    approved = billing.invoice_approve(invoice=supplementary, by=checker)
    client.force_login(finance)
    listed = client.get(reverse("billing:invoice_list")).content.decode()
    shown = client.get(reverse("billing:invoice_detail", args=[approved.pk])).content.decode()

    assert result["supplementary"] == 1
    assert (approved.supplement, approved.billing_round) == (1, 0)
    assert approved.number != first.number and approved.sequence == first.sequence + 1
    assert Invoice.objects.get(pk=first.pk).lines.count() == 1
    assert "aanvullend" in listed
    assert 'data-testid="supplement"' in shown


def test_a_second_late_batch_gets_a_second_supplementary_invoice(finance, treatment, tariffs):
    checker = second_finance_user(finance)
    import_lines(finance, [line("ZK-1")])
    billing.invoices_generate(by=finance, period=OCTOBER)
    billing.invoice_approve(invoice=Invoice.objects.get(), by=checker)
    import_lines(finance, [line("ZK-2", when="2026-10-28 22:00")], name="laat.csv")
    billing.invoices_generate(by=finance, period=OCTOBER)
    billing.invoice_approve(invoice=Invoice.objects.get(state=InvoiceState.DRAFT), by=checker)
    import_lines(finance, [line("ZK-3", when="2026-10-29 22:00")], name="later.csv")

    billing.invoices_generate(by=finance, period=OCTOBER)

    assert sorted(Invoice.objects.values_list("supplement", flat=True)) == [0, 1, 2]
    assert Invoice.objects.get(supplement=2).lines.get().claim.patient_reference == "ZK-3"


def test_a_credited_month_is_billed_in_a_new_round_not_a_supplement(finance, treatment, tariffs):
    checker = second_finance_user(finance)
    import_lines(finance, [line("ZK-1")])
    billing.invoices_generate(by=finance, period=OCTOBER)
    invoice = billing.invoice_send(
        invoice=billing.invoice_approve(invoice=Invoice.objects.get(), by=checker), by=checker
    )
    credit = billing.invoice_credit(invoice=invoice, by=finance, reason="Verkeerd adres")
    billing.invoice_approve(invoice=credit, by=checker)

    billing.invoices_generate(by=finance, period=OCTOBER)

    again = Invoice.objects.get(state=InvoiceState.DRAFT)
    assert (again.billing_round, again.supplement) == (1, 0)
    assert again.administrative_costs == Decimal("25.00")


def test_an_investigation_counts_a_repeated_claim_once(finance, zwolle, tariffs):
    from hap_contracting.billing.selectors import investigation_list

    import_lines(finance, [line("ZK-1", house=77)])
    import_lines(finance, [line("ZK-1", house=77), line("ZK-2", house=78)], name="opnieuw.csv")

    counts = {i.house_number: i.claim_count for i in investigation_list(finance)}

    assert Claim.objects.count() == 3
    assert counts == {77: 1, 78: 1}
