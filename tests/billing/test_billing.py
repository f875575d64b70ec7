"""Billing care without a contract (seed 004, 7.2 point 2): the claims import (whole file or
nothing), matching and investigation, the 2 × tariff charge on the date of care, gapless invoice
numbers, credit notes, the triage verdict, access logging and no BSN in clear anywhere."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.models import AccessLogEntry
from hap_contracting.billing.constants import (
    ClaimImportStatus,
    InvoiceKind,
    InvoiceState,
    NotificationChannel,
)
from hap_contracting.billing.models import (
    AddressInvestigation,
    AdministrativeCost,
    Claim,
    ClaimImport,
    ClaimImportError,
    Invoice,
)
from hap_contracting.billing.services import investigations
from hap_contracting.billing.services import invoices as billing
from hap_contracting.billing.services.claims_import import (
    bsn_is_valid,
    claim_import_create,
    claim_import_run,
    template_csv,
)
from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from hap_contracting.core.text import TextLimit
from hap_contracting.triage.constants import TriageFilterReason, TriageVerdict
from hap_contracting.triage.models import TriageFilterEntry
from hap_contracting.triage.selectors import triage_verdict
from hap_contracting.triage.services import triage_filter_list, triage_verdicts_refresh
from tests.billing.factories import second_finance_user
from tests.contracts.factories import ContractFactory
from tests.organisations.factories import CareLocationFactory
from tests.tariffs.factories import insurer_tariffs

# Invoices are sent by e-mail with their documents: the sender's details are needed.
pytestmark = pytest.mark.usefixtures("invoice_sender")

OCTOBER = datetime.date(2026, 10, 1)
HEADER = (
    "Datum_Tijd;HuisartsenPost;Verrichting;Patiëntreferentie;BSN;Postcode;Huisnummer;"
    "Toevoeging;Redencode"
)


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE)


@pytest.fixture
def billed_location(zwolle):
    """A Wlz-with-treatment location of a known organisation, at Hofstraat 12 A."""
    return CareLocationFactory(
        hap_post=zwolle.posts.get(),
        postcode="8011 AB",
        house_number=12,
        house_number_addition="a",
        wlz_treatment_admission=True,
    )


@pytest.fixture
def tariffs(db):
    return insurer_tariffs(datetime.date(2026, 1, 1))  # visit 78.60, consult 52.40, tel 26.20


def line(when="2026-10-05 23:15", act="VISITE", patient="ZK-1", bsn="", postcode="8011AB"):
    return f"{when};HAP Zwolle;{act};{patient};{bsn};{postcode};12;A;WLZ-BEH"


def import_file(finance, lines, name="weigeringen.csv", django_capture_on_commit_callbacks=None):
    content = "\n".join([HEADER, *lines]).encode()
    claim_import = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile(name, content, "text/csv")
    )
    return claim_import_run(claim_import.pk)


# --- Import ---------------------------------------------------------------------------------


def test_a_clean_file_is_imported_whole_and_matched_to_its_location(
    finance, billed_location, tariffs
):
    result = import_file(finance, [line(), line(act="CONSULT", patient="ZK-2")])

    assert result.status == ClaimImportStatus.IMPORTED
    assert result.imported_count == 2
    assert result.total_lines == 2
    assert set(Claim.objects.values_list("location", flat=True)) == {billed_location.pk}


def test_headers_match_case_and_accent_insensitively_in_either_language(finance, billed_location):
    english = "date time,post,act code,patient reference,postcode,house number,addition,reason"
    content = f"{english}\n2026-10-05 23:15,hap zwolle,visite,ZK-9,8011 ab,12,a,WLZ\n".encode()

    claim_import = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile("claims.csv", content)
    )

    assert claim_import_run(claim_import.pk).status == ClaimImportStatus.IMPORTED


def test_a_file_with_a_bad_line_stores_nothing_and_names_line_column_and_reason(
    finance, billed_location
):
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat() + " 10:00"
    result = import_file(
        finance,
        [
            line(patient="ZK-1"),
            line(patient="ZK-2", postcode="80110AB"),
            line(patient="ZK-3", act="MASSAGE"),
            line(patient="ZK-4", when=future),
            line(patient="ZK-1"),
        ],
    )

    assert result.status == ClaimImportStatus.REJECTED
    assert not Claim.objects.exists()
    errors = list(ClaimImportError.objects.values_list("line_number", "column", "reason"))
    # The repeated line after the bad ones is reported too: the corrected file would be
    # refused for it next.
    assert [(number, column) for number, column, _reason in errors] == [
        (3, "postcode"),
        (4, "verrichting"),
        (5, "datum_tijd"),
        (6, "patientreferentie"),
    ]
    assert result.error_count == 4


def test_a_duplicate_line_rejects_the_file(finance, billed_location):
    result = import_file(
        finance, [line(patient="ZK-1"), line(patient="ZK-2"), line(patient="ZK-1")]
    )

    assert result.status == ClaimImportStatus.REJECTED
    assert list(ClaimImportError.objects.values_list("line_number", flat=True)) == [4]
    assert not Claim.objects.exists()


def test_importing_the_same_file_twice_bills_nothing_twice(finance, billed_location):
    import_file(finance, [line()])

    with pytest.raises(DomainError) as error:
        import_file(finance, [line()])
    assert error.value.field == "file"

    # The same claim in another file is imported as a duplicate of the first, never billed.
    first = Claim.objects.get()
    again = import_file(finance, [line(), line(patient="ZK-7")], name="oktober-2.csv")
    assert again.status == ClaimImportStatus.IMPORTED
    assert "Daarvan herhaalt 1 een eerder geïmporteerde declaratie" in again.message
    duplicate = Claim.objects.get(claim_import=again, line_number=2)
    assert duplicate.duplicate_of == first
    assert not ClaimImportError.objects.filter(claim_import=again).exists()
    assert Claim.objects.filter(duplicate_of__isnull=True).count() == 2


def test_every_duplicate_is_in_the_error_report(finance, billed_location):
    result = import_file(finance, [line(), line(), line(), line(), line(patient="ZK-2")])

    assert result.status == ClaimImportStatus.REJECTED
    assert result.error_count == 3
    assert list(ClaimImportError.objects.values_list("line_number", flat=True)) == [3, 4, 5]


def test_a_missing_column_is_named(finance):
    content = b"datum_tijd;verrichting\n2026-10-05 23:15;VISITE\n"

    claim_import = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile("x.csv", content)
    )
    result = claim_import_run(claim_import.pk)

    assert result.status == ClaimImportStatus.REJECTED
    assert "huisartsenpost" in ClaimImportError.objects.get().reason


def test_an_xlsx_file_is_imported_like_a_csv(finance, billed_location):
    from io import BytesIO

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(";"))
    sheet.append(
        [
            datetime.datetime(2026, 10, 5, 23, 15),
            "HAP Zwolle",
            "VISITE",
            "ZK-1",
            None,
            "8011 AB",
            12,
            "A",
            "WLZ-BEH",
        ]
    )
    data = BytesIO()
    workbook.save(data)

    claim_import = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile("claims.xlsx", data.getvalue())
    )

    assert claim_import_run(claim_import.pk).status == ClaimImportStatus.IMPORTED
    assert timezone.localtime(Claim.objects.get().care_at).hour == 23


def test_only_finance_imports(staff):
    with pytest.raises(DomainError):
        claim_import_create(
            by=staff[Role.LOCATION_MANAGER],
            uploaded_file=SimpleUploadedFile("x.csv", HEADER.encode()),
        )


def test_the_template_file_has_every_expected_column():
    header = template_csv().removeprefix("\ufeff").splitlines()[0].split(";")
    assert header[:4] == ["datum_tijd", "huisartsenpost", "verrichting", "patientreferentie"]


# --- BSN ------------------------------------------------------------------------------------


def test_the_bsn_11_test():
    assert bsn_is_valid("111222333")
    assert not bsn_is_valid("111222334")
    assert not bsn_is_valid("12345678")


def test_a_bsn_is_kept_only_as_a_keyed_hash_and_a_wrong_one_is_refused(finance, billed_location):
    rejected = import_file(finance, [line(bsn="111222334")], name="a.csv")
    assert rejected.status == ClaimImportStatus.REJECTED
    assert ClaimImportError.objects.get().column == "bsn"
    assert "111222334" not in ClaimImportError.objects.get().reason

    import_file(finance, [line(bsn="111222333")], name="b.csv")

    claim = Claim.objects.get()
    assert claim.bsn_hash and "111222333" not in claim.bsn_hash
    stored = [str(value) for value in Claim.objects.values_list(flat=True)]
    for model in (Claim, ClaimImport, ClaimImportError, AccessLogEntry):
        for row in model.objects.values():
            assert "111222333" not in repr(row)
    assert "111222333" not in "".join(stored)


def test_the_uploaded_file_is_not_kept_once_imported(finance, billed_location, caplog):
    from django.core.files.storage import default_storage

    content = "\n".join([HEADER, line(bsn="111222333")]).encode()
    claim_import = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile("met-bsn.csv", content, "text/csv")
    )
    stored_as = claim_import.file.name
    assert default_storage.exists(stored_as)

    with caplog.at_level("DEBUG"):
        result = claim_import_run(claim_import.pk)

    assert result.status == ClaimImportStatus.IMPORTED
    assert not result.file
    assert not default_storage.exists(stored_as)
    assert "111222333" not in caplog.text
    with pytest.raises(DomainError):  # its hash still refuses the same file
        claim_import_create(
            by=finance, uploaded_file=SimpleUploadedFile("weer.csv", content, "text/csv")
        )


def test_a_matching_failure_after_the_import_keeps_it_imported_and_a_rerun_matches(
    finance, billed_location, monkeypatch
):
    """Staged as model rows (the demo's SQLite), the claims are matched after the move."""
    from hap_contracting.billing.services import claims_import

    content = "\n".join([HEADER, line()]).encode()
    claim_import = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile("a.csv", content, "text/csv")
    )
    real_matching = claims_import.claims_match_locations

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(claims_import, "claims_match_locations", broken)
    with pytest.raises(RuntimeError):
        claim_import_run(claim_import.pk, staged_by_copy=False)
    assert ClaimImport.objects.get(pk=claim_import.pk).status == ClaimImportStatus.IMPORTED
    assert Claim.objects.get().location is None

    monkeypatch.setattr(claims_import, "claims_match_locations", real_matching)
    again = claim_import_run(claim_import.pk)

    assert again.status == ClaimImportStatus.IMPORTED
    assert Claim.objects.get().location == billed_location
    assert not again.file


@pytest.mark.postgres
def test_a_failure_while_storing_by_copy_stores_nothing_and_a_retry_imports_and_matches(
    finance, billed_location, monkeypatch
):
    """Staged by COPY, the claims are matched and investigated in the move's transaction."""
    from hap_contracting.billing.services import claims_staging

    content = "\n".join([HEADER, line(), line(patient="ZK-2", postcode="8012 CD")]).encode()
    claim_import = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile("a.csv", content, "text/csv")
    )
    real_counts = claims_staging.claim_import_counts

    def broken(*args):
        raise OperationalError("the database went away")

    monkeypatch.setattr(claims_staging, "claim_import_counts", broken)
    with pytest.raises(OperationalError):
        claim_import_run(claim_import.pk)
    assert ClaimImport.objects.get(pk=claim_import.pk).status == ClaimImportStatus.RUNNING
    assert not Claim.objects.exists()

    monkeypatch.setattr(claims_staging, "claim_import_counts", real_counts)
    again = claim_import_run(claim_import.pk)

    assert again.status == ClaimImportStatus.IMPORTED
    assert Claim.objects.get(patient_reference="ZK-1").location == billed_location
    assert AddressInvestigation.objects.get().postcode == "8012 CD"
    assert not again.file


@pytest.mark.parametrize("reference", ["111 222 333", "12345672"])  # 012345672 passes
def test_a_patient_reference_that_is_a_bsn_is_refused(finance, billed_location, reference):
    assert bsn_is_valid(reference.replace(" ", "").zfill(9))
    result = import_file(finance, [line(patient=reference)])

    assert result.status == ClaimImportStatus.REJECTED
    error = ClaimImportError.objects.get()
    assert error.column == "patientreferentie"
    assert "111" not in error.reason
    assert not Claim.objects.exists()


# --- Investigation --------------------------------------------------------------------------


def test_claims_at_an_unknown_address_go_to_the_investigation_list(finance, staff, zwolle):
    import_file(finance, [line(postcode="8012 CD")])

    investigation = AddressInvestigation.objects.get()
    assert (investigation.postcode, investigation.house_number) == ("8012 CD", 12)
    assert investigation.post == zwolle.posts.get()


def test_the_location_manager_records_the_organisation_and_the_notification(finance, staff, zwolle):
    location = CareLocationFactory(
        hap_post=zwolle.posts.get(),
        postcode="8011 AB",
        house_number=12,
        house_number_addition="A",
        organisation=None,
    )
    import_file(finance, [line()])
    investigation = AddressInvestigation.objects.get()
    manager = staff[Role.LOCATION_MANAGER]
    from tests.organisations.factories import CareOrganisationFactory

    organisation = CareOrganisationFactory()
    investigations.investigation_record_location(
        investigation=investigation, by=manager, location=location, organisation=organisation
    )
    investigations.investigation_record_notification(
        investigation=investigation,
        by=manager,
        notified_on=timezone.localdate(),
        notified_how=NotificationChannel.LETTER,
        notes="Brief: deze zorg wordt niet meer geleverd.",
    )

    location.refresh_from_db()
    assert location.organisation == organisation
    assert Claim.objects.get().location == location
    assert investigation.notified_how == NotificationChannel.LETTER


def test_another_regions_location_manager_cannot_investigate(finance, make_user, flevoland, zwolle):
    import_file(finance, [line(postcode="8012 CD")])

    with pytest.raises(DomainError):
        investigations.investigation_record_notification(
            investigation=AddressInvestigation.objects.get(),
            by=make_user(Role.LOCATION_MANAGER, region=flevoland),
            notified_on=timezone.localdate(),
            notified_how=NotificationChannel.EMAIL,
        )


# --- Invoices -------------------------------------------------------------------------------


def test_uncontracted_care_is_charged_twice_the_tariff_on_the_date_of_care_plus_costs(
    finance, billed_location, tariffs
):
    insurer_tariffs(
        datetime.date(2026, 10, 10),
        amounts={"VISITE": Decimal("80.00"), "CONSULT": Decimal("55"), "TELEFOON": Decimal("27")},
    )
    from hap_contracting.tariffs.models import InsurerTariff

    InsurerTariff.objects.filter(valid_from=datetime.date(2026, 1, 1)).update(
        valid_until=datetime.date(2026, 10, 9)
    )
    AdministrativeCost.objects.create(amount=Decimal("25.00"), valid_from=datetime.date(2026, 1, 1))
    import_file(
        finance,
        [
            line(when="2026-10-05 23:15", patient="ZK-1"),
            line(when="2026-10-12 02:00", patient="ZK-2"),
        ],
    )

    result = billing.invoices_generate(by=finance, period=OCTOBER)

    invoice = Invoice.objects.get()
    assert result["lines"] == 2
    assert sorted(invoice.lines.values_list("amount", flat=True)) == [
        Decimal("157.20"),
        Decimal("160.00"),
    ]
    assert invoice.administrative_costs == Decimal("25.00")
    assert invoice.total == Decimal("342.20")
    assert invoice.organisation == billed_location.organisation


def test_care_on_a_date_with_an_active_contract_is_not_charged(finance, billed_location, tariffs):
    ContractFactory(
        location=billed_location,
        start_date=datetime.date(2026, 10, 10),
        end_date=datetime.date(2028, 10, 9),
    )
    import_file(
        finance,
        [
            line(when="2026-10-09 23:00", patient="ZK-1"),
            line(when="2026-10-10 01:00", patient="ZK-2"),
        ],
    )

    billing.invoices_generate(by=finance, period=OCTOBER)

    assert list(Invoice.objects.get().lines.values_list("care_on", flat=True)) == [
        datetime.date(2026, 10, 9)
    ]


def test_care_at_a_location_covered_as_another_location_of_a_contract_is_not_charged(
    finance, billed_location, tariffs
):
    contract = ContractFactory(
        location=CareLocationFactory(hap_post=billed_location.hap_post, postcode="8011 CD"),
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2027, 12, 31),
    )
    contract.other_locations.add(billed_location)
    import_file(finance, [line()])

    assert billing.invoices_generate(by=finance, period=OCTOBER)["lines"] == 0


def test_amounts_are_rounded_half_up_to_cents():
    from hap_contracting.core.money import money

    assert money(Decimal("0.125")) == Decimal("0.13")  # not the banker's 0.12
    assert money(Decimal("78.605")) == Decimal("78.61")
    assert money(Decimal("-0.125")) == Decimal("-0.13")
    assert money(Decimal("0.124")) == Decimal("0.12")


def test_care_at_a_location_without_treatment_admission_is_not_charged(
    finance, billed_location, tariffs
):
    billed_location.wlz_treatment_admission = False
    billed_location.save()
    import_file(finance, [line()])

    assert billing.invoices_generate(by=finance, period=OCTOBER)["lines"] == 0


def test_generating_twice_bills_each_claim_once(finance, billed_location, tariffs):
    import_file(finance, [line()])

    billing.invoices_generate(by=finance, period=OCTOBER)
    again = billing.invoices_generate(by=finance, period=OCTOBER)

    assert again["lines"] == 0
    assert Invoice.objects.get().lines.count() == 1


def test_generating_again_takes_claims_off_a_draft_once_a_contract_covers_them(
    finance, billed_location, tariffs
):
    import_file(finance, [line()])
    billing.invoices_generate(by=finance, period=OCTOBER)
    draft = Invoice.objects.get()
    ContractFactory(
        location=billed_location,
        start_date=datetime.date(2026, 10, 1),
        end_date=datetime.date(2028, 9, 30),
    )

    again = billing.invoices_generate(by=finance, period=OCTOBER)

    assert (again["lines_removed"], again["drafts_removed"]) == (1, 1)
    assert not Invoice.objects.exists()
    with pytest.raises(DomainError):
        billing.invoice_approve(invoice=draft, by=second_finance_user(finance))


def test_generating_again_charges_a_draft_at_the_corrected_tariff(
    finance, billed_location, tariffs
):
    import_file(finance, [line(act="VISITE")])
    billing.invoices_generate(by=finance, period=OCTOBER)
    tariffs["VISITE"].amount = Decimal("80.00")
    tariffs["VISITE"].save()

    again = billing.invoices_generate(by=finance, period=OCTOBER)

    invoice = Invoice.objects.get()
    assert again["lines"] == 0
    assert invoice.lines.get().amount == Decimal("160.00")
    assert invoice.lines_total == Decimal("160.00")


def test_claims_arriving_after_the_invoice_was_sent_go_on_a_supplementary_invoice(
    finance, billed_location, tariffs
):
    AdministrativeCost.objects.create(amount=Decimal("25.00"), valid_from=OCTOBER)
    import_file(finance, [line(patient="ZK-1")])
    billing.invoices_generate(by=finance, period=OCTOBER)
    sent = billing.invoice_send(invoice=approved_invoice(finance), by=finance)
    import_file(finance, [line(when="2026-10-20 02:00", patient="ZK-2")], name="laat.csv")

    late = billing.invoices_generate(by=finance, period=OCTOBER)

    assert (late["invoices"], late["lines"], late["supplementary"]) == (1, 1, 1)
    sent = Invoice.objects.get(pk=sent.pk)
    assert (sent.total, sent.lines.count(), sent.state) == (Decimal("182.20"), 1, "sent")
    supplementary = Invoice.objects.get(state=InvoiceState.DRAFT)
    assert (supplementary.organisation, supplementary.period) == (sent.organisation, OCTOBER)
    assert (supplementary.billing_round, supplementary.supplement) == (0, 1)
    # Only the new claim, without administrative costs again: the month's invoice had them.
    assert [line.claim.patient_reference for line in supplementary.lines.all()] == ["ZK-2"]
    assert supplementary.administrative_costs == 0
    assert supplementary.total == Decimal("157.20")
    approved = billing.invoice_approve(invoice=supplementary, by=second_finance_user(finance))
    assert approved.number == f"{timezone.localdate().year}-00002"
    # Making the month again adds nothing twice.
    assert billing.invoices_generate(by=finance, period=OCTOBER)["invoices"] == 0


def approved_invoice(finance):
    invoice = Invoice.objects.get(kind=InvoiceKind.INVOICE)
    return billing.invoice_approve(invoice=invoice, by=second_finance_user(finance))


def test_approval_numbers_the_invoice_and_lists_the_location_for_triage(
    finance, billed_location, tariffs
):
    import_file(finance, [line()])
    billing.invoices_generate(by=finance, period=OCTOBER)

    invoice = approved_invoice(finance)

    year = timezone.localdate().year
    assert invoice.number == f"{year}-00001"
    entry = TriageFilterEntry.objects.get()
    assert (entry.location, entry.reason) == (
        billed_location,
        TriageFilterReason.BILLED_WITHOUT_CONTRACT,
    )
    assert (
        triage_verdict(postcode="8011ab", house_number=12, addition="a")
        == TriageVerdict.NO_CARE_WITHOUT_AGREEMENT
    )


def test_a_sent_invoice_is_corrected_only_by_a_credit_note(finance, billed_location, tariffs):
    import_file(finance, [line()])
    billing.invoices_generate(by=finance, period=OCTOBER)
    invoice = billing.invoice_send(invoice=approved_invoice(finance), by=finance)

    with pytest.raises(DomainError):
        billing.invoice_delete_draft(invoice=invoice, by=finance)
    credit = billing.invoice_credit(invoice=invoice, by=finance, reason="Verkeerde locatie.")
    credit = billing.invoice_approve(invoice=credit, by=second_finance_user(finance))

    assert credit.kind == InvoiceKind.CREDIT_NOTE
    assert credit.total == -invoice.total
    assert credit.number.endswith("00002")
    with pytest.raises(DomainError):
        billing.invoice_credit(invoice=invoice, by=finance, reason="Nogmaals.")


def test_a_credit_reason_over_its_limit_is_refused_and_no_credit_note_is_made(
    finance, billed_location, tariffs
):
    import_file(finance, [line()])
    billing.invoices_generate(by=finance, period=OCTOBER)
    invoice = billing.invoice_send(invoice=approved_invoice(finance), by=finance)

    with pytest.raises(DomainError) as error:
        billing.invoice_credit(invoice=invoice, by=finance, reason="x" * (TextLimit.REASON + 1))

    assert error.value.field == "reason"
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


def test_credited_claims_are_billed_again_only_once_the_credit_note_is_approved(
    finance, billed_location, tariffs
):
    import_file(finance, [line()])
    billing.invoices_generate(by=finance, period=OCTOBER)
    first = billing.invoice_send(invoice=approved_invoice(finance), by=finance)
    credit = billing.invoice_credit(invoice=first, by=finance, reason="Verkeerd tarief.")

    while_draft = billing.invoices_generate(by=finance, period=OCTOBER)
    billing.invoice_approve(invoice=credit, by=second_finance_user(finance))
    after_approval = billing.invoices_generate(by=finance, period=OCTOBER)
    once_more = billing.invoices_generate(by=finance, period=OCTOBER)

    assert while_draft["lines"] == 0
    assert (after_approval["invoices"], after_approval["lines"]) == (1, 1)
    assert once_more["lines"] == 0
    again = Invoice.objects.get(kind=InvoiceKind.INVOICE, billing_round=1)
    assert again.state == InvoiceState.DRAFT
    assert again.total == first.total
    assert again.lines.get().claim_id == first.lines.get().claim_id


def test_a_month_credited_twice_is_billed_in_the_third_round(finance, billed_location, tariffs):
    import_file(finance, [line()])
    billing.invoices_generate(by=finance, period=OCTOBER)

    for _round in range(2):
        standing = Invoice.objects.get(kind=InvoiceKind.INVOICE, state=InvoiceState.DRAFT)
        sent = billing.invoice_send(
            invoice=billing.invoice_approve(invoice=standing, by=second_finance_user(finance)),
            by=finance,
        )
        credit = billing.invoice_credit(invoice=sent, by=finance, reason="Correctie.")
        billing.invoice_approve(invoice=credit, by=second_finance_user(finance))
        billing.invoices_generate(by=finance, period=OCTOBER)

    third = Invoice.objects.get(kind=InvoiceKind.INVOICE, state=InvoiceState.DRAFT)
    assert third.billing_round == 2
    assert third.lines.get().billing_round == 2


def test_a_claim_is_charged_once_per_billing_round_in_the_database(
    finance, billed_location, tariffs
):
    import_file(finance, [line()])
    billing.invoices_generate(by=finance, period=OCTOBER)
    charge = Invoice.objects.get().lines.get()

    charge.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        charge.save()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_sent_invoice_cannot_be_changed_in_the_database(finance, billed_location, tariffs):
    import_file(finance, [line()])
    billing.invoices_generate(by=finance, period=OCTOBER)
    invoice = billing.invoice_send(invoice=approved_invoice(finance), by=finance)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE hap_contracting_invoice SET total = 0 WHERE id = %s", [invoice.pk])


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE hap_contracting_accesslogentry SET what = 'niets'",
        "DELETE FROM hap_contracting_accesslogentry",
        "UPDATE hap_contracting_accesslogreference SET patient_reference = 'ZK-0'",
        "DELETE FROM hap_contracting_accesslogreference",
    ],
)
def test_nobody_changes_or_deletes_the_access_log_in_the_database(finance, statement):
    from hap_contracting.audit.models import AccessLogReference
    from hap_contracting.audit.services import access_log_record_many

    access_log_record_many(
        user=finance,
        action=AccessAction.EXPORT,
        what="test",
        references=Claim.objects.none().values_list("patient_reference", flat=True),
    )
    entry = AccessLogEntry.objects.get()
    AccessLogReference.objects.create(entry=entry, patient_reference="ZK-1")

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_invoice_numbers_stay_gapless_when_two_people_approve_at_once(finance, zwolle, tariffs):
    for number in range(6):
        location = CareLocationFactory(
            hap_post=zwolle.posts.get(),
            postcode="8011 AB",
            house_number=100 + number,
            wlz_treatment_admission=True,
        )
        claim_import = claim_import_create(
            by=finance,
            uploaded_file=SimpleUploadedFile(
                f"f{number}.csv",
                f"{HEADER}\n2026-10-05 23:15;HAP Zwolle;VISITE;ZK-{number};;8011 AB;"
                f"{location.house_number};;WLZ\n".encode(),
            ),
        )
        claim_import_run(claim_import.pk)
    billing.invoices_generate(by=finance, period=OCTOBER)
    drafts = list(Invoice.objects.filter(state=InvoiceState.DRAFT))
    checker = second_finance_user(finance)
    barrier = threading.Barrier(2)
    errors = []

    def approve(batch):
        try:
            barrier.wait()
            for invoice in batch:
                billing.invoice_approve(invoice=invoice, by=checker)
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(drafts[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4, 5, 6]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_people_making_the_same_month_at_once_bill_each_claim_once(
    finance, billed_location, tariffs
):
    import_file(finance, [line(patient="ZK-1"), line(act="CONSULT", patient="ZK-2")])
    barrier = threading.Barrier(2)
    outcomes = []

    def generate():
        try:
            barrier.wait()
            outcomes.append(billing.invoices_generate(by=finance, period=OCTOBER)["lines"])
        except DomainError as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=generate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    invoice = Invoice.objects.get()
    assert invoice.lines.count() == 2
    assert invoice.lines_total == Decimal("262.00")  # 2 × 78,60 + 2 × 52,40
    assert 2 in outcomes
    assert all(outcome in (0, 2) or isinstance(outcome, DomainError) for outcome in outcomes)


# --- Triage verdict -------------------------------------------------------------------------


def test_a_contracted_location_is_contracted_and_an_unknown_address_unknown(billed_location):
    ContractFactory(location=billed_location)
    triage_verdicts_refresh(location_ids=[billed_location.pk])  # as the contract's service does

    assert triage_verdict(postcode="8011 AB", house_number=12, addition="A") == (
        TriageVerdict.CONTRACTED
    )
    assert triage_verdict(postcode="9999 ZZ", house_number=1) == TriageVerdict.UNKNOWN


def test_a_location_without_treatment_admission_is_never_refused(billed_location):
    billed_location.wlz_treatment_admission = False
    billed_location.save()
    triage_filter_list(
        {billed_location.pk: timezone.localdate()}, reason=TriageFilterReason.GRACE_PERIOD_ENDED
    )

    assert triage_verdict(postcode="8011 AB", house_number=12, addition="a") == (
        TriageVerdict.UNKNOWN
    )


# --- Access log -----------------------------------------------------------------------------


def test_an_import_is_written_to_the_access_log(finance, billed_location):
    import_file(finance, [line()])

    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.action, entry.roles) == (finance, AccessAction.IMPORT, "finance")


def test_the_date_of_care_is_the_amsterdam_date_whatever_offset_the_file_writes(
    finance, billed_location
):
    # 23:30 UTC on 31 October is 00:30 on 1 November in Amsterdam.
    import_file(finance, [line(when="2026-10-31T23:30:00+00:00")])

    assert Claim.objects.get().care_on == datetime.date(2026, 11, 1)


def test_a_windows_1252_file_from_excel_is_read(finance, billed_location):
    content = f"{HEADER}\n{line(patient='ZK-ë')}\n".encode("cp1252")

    claim_import = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile("x.csv", content)
    )

    assert claim_import_run(claim_import.pk).status == ClaimImportStatus.IMPORTED
    assert Claim.objects.get().patient_reference == "ZK-ë"


def test_an_unreadable_file_ends_rejected_with_a_message_and_is_not_kept(finance):
    content = b"PK\x03\x04 not really a workbook"

    claim_import = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile("x.xlsx", content)
    )
    result = claim_import_run(claim_import.pk)

    assert result.status == ClaimImportStatus.REJECTED
    assert result.finished_at is not None
    assert ClaimImportError.objects.get().line_number == 1
    assert not result.file


def test_a_claims_file_over_the_size_limit_is_refused(finance, settings):
    settings.CLAIM_IMPORT_MAX_BYTES = 10

    with pytest.raises(DomainError) as error:
        claim_import_create(by=finance, uploaded_file=SimpleUploadedFile("x.csv", HEADER.encode()))
    assert error.value.field == "file"


def test_an_unknown_address_is_investigated_by_the_post_whose_area_holds_it(
    finance, zwolle, flevoland
):
    # Care given by HAP Almere (Flevoland) at a Zwolle address.
    content = f"{HEADER}\n2026-10-05 23:15;HAP Almere;VISITE;ZK-1;;8012 CD;7;;WLZ\n".encode()
    claim_import = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile("z.csv", content)
    )
    claim_import_run(claim_import.pk)

    assert AddressInvestigation.objects.get().post.region == zwolle


def test_a_grace_period_never_lists_a_location_without_treatment_admission(zwolle):
    from hap_contracting.procedure.constants import RequestKind, RequestState
    from hap_contracting.triage.services import triage_filter_list_after_grace
    from tests.procedure.factories import AdmissionRequestFactory

    location = CareLocationFactory(hap_post=zwolle.posts.get(), wlz_treatment_admission=False)
    AdmissionRequestFactory(
        location=location,
        kind=RequestKind.REGULARISATION,
        state=RequestState.PRE_ASSESSMENT,
        grace_ends_on=timezone.localdate() - datetime.timedelta(days=1),
    )

    triage_filter_list_after_grace(timezone.localdate())

    assert not TriageFilterEntry.objects.exists()


def test_the_triage_list_leaves_out_contracted_and_non_treatment_locations(
    finance, billed_location, zwolle
):
    from hap_contracting.triage.selectors import triage_refused_entries

    contracted = CareLocationFactory(hap_post=zwolle.posts.get(), wlz_treatment_admission=True)
    ContractFactory(location=contracted)
    without = CareLocationFactory(hap_post=zwolle.posts.get(), wlz_treatment_admission=False)
    triage_filter_list(
        dict.fromkeys([billed_location.pk, contracted.pk, without.pk], timezone.localdate()),
        reason=TriageFilterReason.BILLED_WITHOUT_CONTRACT,
    )

    listed = [entry.location for entry in triage_refused_entries(finance)]

    assert listed == [billed_location]


def test_an_invoice_approved_and_sent_after_the_fact_carries_those_moments(
    finance, billed_location, tariffs
):
    """The demo's history: the number's year, the triage listing and the dates follow ``at``."""
    import_file(finance, [line()])
    billing.invoices_generate(by=finance, period=OCTOBER)
    approved_at = timezone.now() - datetime.timedelta(days=20)
    invoice = Invoice.objects.get(kind=InvoiceKind.INVOICE)

    invoice = billing.invoice_approve(
        invoice=invoice, by=second_finance_user(finance), at=approved_at
    )
    sent = billing.invoice_send(
        invoice=invoice, by=finance, at=approved_at + datetime.timedelta(days=1)
    )

    assert sent.approved_at == approved_at
    assert sent.sent_at == approved_at + datetime.timedelta(days=1)
    assert sent.number.startswith(f"{timezone.localdate(approved_at).year}-")
    assert TriageFilterEntry.objects.get().listed_on == timezone.localdate(approved_at)


def test_an_invoice_is_not_sent_before_it_was_approved_nor_in_the_future(
    finance, billed_location, tariffs
):
    import_file(finance, [line()])
    billing.invoices_generate(by=finance, period=OCTOBER)
    invoice = approved_invoice(finance)

    with pytest.raises(DomainError, match="nadat hij is goedgekeurd"):
        billing.invoice_send(
            invoice=invoice, by=finance, at=invoice.approved_at - datetime.timedelta(hours=1)
        )
    with pytest.raises(DomainError, match="in de toekomst"):
        billing.invoice_send(
            invoice=invoice, by=finance, at=timezone.now() + datetime.timedelta(hours=1)
        )

    invoice = Invoice.objects.get(pk=invoice.pk)
    assert (invoice.state, invoice.sent_at) == (InvoiceState.APPROVED, None)
