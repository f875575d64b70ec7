"""The contract register (seed 004, 7.1 and 7.2): contracts made on completion, the 2 × tariff
floor for Wlz with treatment, derived status, insurer tariff periods, documents and breaches."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from hap_contracting.contracts.constants import (
    BreachActionKind,
    ContractEventKind,
    ContractKind,
    ContractStatus,
    EscalationStep,
)
from hap_contracting.contracts.models import Contract, ContractEvent, contract_status
from hap_contracting.contracts.services import breaches
from hap_contracting.contracts.services import contracts as services
from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from hap_contracting.core.text import TextLimit
from hap_contracting.procedure.constants import RequestKind, RequestState
from hap_contracting.tariffs.models import Act, InsurerTariff
from hap_contracting.tariffs.services import insurer_tariff_save
from tests.contracts.factories import ContractFactory, without_treatment_terms
from tests.procedure.factories import AdmissionRequestFactory
from tests.tariffs.factories import insurer_tariffs

S = RequestState
TODAY = datetime.date(2026, 11, 23)


@pytest.fixture
def ready_to_contract(staff, location):
    """A request the council approved and whose outcome the location manager recorded."""
    request = AdmissionRequestFactory(
        in_contracting=True,
        location=location,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
    )
    request.outcome_recorded_at = timezone.now()
    request.save()
    return request


def complete(request, staff, terms):
    """Complete contracting for a location whose admission matches the contract's kind."""
    location = request.location
    location.wlz_treatment_admission = terms.kind == ContractKind.WLZ_WITH_TREATMENT
    location.save()
    return services.contracting_complete(
        admission_request=request,
        by=staff[Role.SECRETARIAT],
        completed_on=timezone.localdate(),
        terms=terms,
    )


def with_treatment(start_date, **rates):
    return services.ContractTerms(
        kind=ContractKind.WLZ_WITH_TREATMENT,
        start_date=start_date,
        rates={code: Decimal(amount) for code, amount in rates.items()},
    )


def test_completing_the_procedure_creates_the_contract(ready_to_contract, staff, settings):
    settings.CONTRACT_DEFAULT_TERM_MONTHS = 24
    start = timezone.localdate()

    complete(ready_to_contract, staff, without_treatment_terms(start))

    contract = Contract.objects.get(admission_request=ready_to_contract)
    assert ready_to_contract.state == S.CONTRACTED
    assert contract.location == ready_to_contract.location
    assert contract.organisation == ready_to_contract.location.organisation
    assert contract.region == ready_to_contract.location.region
    assert contract.start_date == start
    assert contract.end_date == start + datetime.timedelta(days=-1) + _months(24)
    assert list(contract.events.values_list("kind", flat=True)) == [ContractEventKind.CREATED]


def _months(n):
    from dateutil.relativedelta import relativedelta

    return relativedelta(months=n)


def test_a_wlz_with_treatment_rate_below_twice_the_insurer_tariff_is_refused(
    ready_to_contract, staff
):
    start = timezone.localdate()
    insurer_tariffs(start - datetime.timedelta(days=365))  # consult 52.40, visit 78.60, tel 26.20

    with pytest.raises(DomainError) as error:
        complete(
            ready_to_contract,
            staff,
            with_treatment(start, CONSULT="104.79", VISITE="157.20", TELEFOON="52.40"),
        )

    assert set(error.value.errors) == {"rate_CONSULT"}
    assert "104,80" in error.value.errors["rate_CONSULT"].replace(".", ",")
    ready_to_contract.refresh_from_db()
    assert ready_to_contract.state == S.CONTRACTING
    assert not Contract.objects.exists()


def test_a_rate_of_exactly_twice_the_insurer_tariff_is_accepted(ready_to_contract, staff):
    start = timezone.localdate()
    insurer_tariffs(start)

    complete(
        ready_to_contract,
        staff,
        with_treatment(start, CONSULT="104.80", VISITE="157.20", TELEFOON="52.40"),
    )

    contract = Contract.objects.get()
    assert dict(contract.rates.values_list("act__code", "amount")) == {
        "CONSULT": Decimal("104.80"),
        "VISITE": Decimal("157.20"),
        "TELEFOON": Decimal("52.40"),
    }


def test_the_floor_uses_the_tariff_valid_on_the_contract_start_date(ready_to_contract, staff):
    insurer_tariffs(datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))
    insurer_tariffs(
        datetime.date(2026, 1, 1),
        amounts={"CONSULT": Decimal("60.00"), "VISITE": Decimal("90"), "TELEFOON": Decimal("30")},
    )
    old_floor_rates = {"CONSULT": "104.80", "VISITE": "157.20", "TELEFOON": "52.40"}

    # Started in 2025, the 2025 tariffs are the floor …
    services.contract_create_for_request(
        admission_request=ready_to_contract,
        by=staff[Role.SECRETARIAT],
        terms=with_treatment(datetime.date(2025, 6, 1), **old_floor_rates),
    )
    # … started in 2026, the same rates are too low.
    other = AdmissionRequestFactory(in_contracting=True)
    with pytest.raises(DomainError) as error:
        services.contract_create_for_request(
            admission_request=other,
            by=staff[Role.SECRETARIAT],
            terms=with_treatment(datetime.date(2026, 2, 1), **old_floor_rates),
        )
    assert set(error.value.errors) == {"rate_CONSULT", "rate_VISITE", "rate_TELEFOON"}


def test_a_treatment_location_cannot_avoid_the_floor_by_choosing_the_other_kind(
    ready_to_contract, staff
):
    insurer_tariffs(timezone.localdate())
    cheap = services.ContractTerms(
        kind=ContractKind.WLZ_WITHOUT_TREATMENT,
        start_date=timezone.localdate(),
        rates={"VISITE": Decimal("1.00")},
    )

    with pytest.raises(DomainError) as error:
        services.contract_create_for_request(
            admission_request=ready_to_contract, by=staff[Role.SECRETARIAT], terms=cheap
        )

    assert error.value.field == "kind"
    assert not Contract.objects.exists()


def test_with_treatment_every_act_with_a_tariff_needs_a_rate(ready_to_contract, staff):
    insurer_tariffs(timezone.localdate())

    with pytest.raises(DomainError) as error:
        complete(ready_to_contract, staff, with_treatment(timezone.localdate(), CONSULT="200"))

    assert set(error.value.errors) == {"rate_VISITE", "rate_TELEFOON"}


def test_with_treatment_without_any_insurer_tariff_the_floor_cannot_be_checked(
    ready_to_contract, staff
):
    with pytest.raises(DomainError) as error:
        complete(ready_to_contract, staff, with_treatment(timezone.localdate(), CONSULT="200"))

    assert error.value.field == "start_date"


def test_without_treatment_there_is_no_rate_floor(ready_to_contract, staff):
    insurer_tariffs(timezone.localdate())
    terms = services.ContractTerms(
        kind=ContractKind.WLZ_WITHOUT_TREATMENT,
        start_date=timezone.localdate(),
        rates={"CONSULT": Decimal("10.00")},
    )

    complete(ready_to_contract, staff, terms)

    assert Contract.objects.get().rates.get().amount == Decimal("10.00")


def test_a_contract_needs_the_organisation_of_its_location(ready_to_contract, staff):
    location = ready_to_contract.location
    location.organisation = None
    location.save()

    with pytest.raises(DomainError) as error:
        complete(ready_to_contract, staff, without_treatment_terms())

    assert error.value.field is None
    ready_to_contract.refresh_from_db()
    assert ready_to_contract.state == S.CONTRACTING
    assert not Contract.objects.exists()


def test_the_end_date_must_lie_after_the_start_date(ready_to_contract, staff):
    terms = services.ContractTerms(
        kind=ContractKind.WLZ_WITHOUT_TREATMENT,
        start_date=timezone.localdate(),
        end_date=timezone.localdate(),
    )

    with pytest.raises(DomainError) as error:
        complete(ready_to_contract, staff, terms)

    assert error.value.field == "end_date"


def test_a_renewal_contract_continues_the_contract_it_renews(staff, location):
    location.wlz_treatment_admission = False
    location.save()
    previous = ContractFactory(location=location)
    renewal = AdmissionRequestFactory(
        in_contracting=True, location=location, kind=RequestKind.RENEWAL, renews_contract=previous
    )

    contract = services.contract_create_for_request(
        admission_request=renewal,
        by=staff[Role.SECRETARIAT],
        terms=without_treatment_terms(previous.end_date + datetime.timedelta(days=1)),
    )

    assert contract.previous_contract == previous
    assert previous.next_contract == contract


STATUS_CASES = [
    # start, end, terminated_on, expected on TODAY (2026-11-23; three months on: 2027-02-23)
    (datetime.date(2027, 1, 1), datetime.date(2028, 12, 31), None, ContractStatus.UPCOMING),
    (datetime.date(2025, 1, 1), datetime.date(2027, 12, 31), None, ContractStatus.ACTIVE),
    (datetime.date(2025, 1, 1), datetime.date(2027, 2, 24), None, ContractStatus.ACTIVE),
    (datetime.date(2025, 1, 1), datetime.date(2027, 2, 23), None, ContractStatus.EXPIRING),
    (datetime.date(2025, 1, 1), TODAY, None, ContractStatus.EXPIRING),
    (datetime.date(2024, 1, 1), datetime.date(2026, 11, 22), None, ContractStatus.EXPIRED),
    (datetime.date(2025, 1, 1), datetime.date(2027, 12, 31), TODAY, ContractStatus.TERMINATED),
    (
        datetime.date(2025, 1, 1),
        datetime.date(2027, 12, 31),
        datetime.date(2026, 12, 31),
        ContractStatus.ACTIVE,
    ),
]


@pytest.mark.parametrize(("start", "end", "terminated_on", "expected"), STATUS_CASES)
def test_the_status_follows_from_the_dates_in_python_and_in_sql_alike(
    location, start, end, terminated_on, expected
):
    contract = ContractFactory(
        location=location, start_date=start, end_date=end, terminated_on=terminated_on
    )

    assert contract.status_on(TODAY) == expected
    assert Contract.objects.with_status(TODAY).get(pk=contract.pk).status == expected
    assert (
        contract_status(start_date=start, end_date=end, terminated_on=terminated_on, today=TODAY)
        == expected
    )


# --- Insurer tariffs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "overlaps"),
    [
        (datetime.date(2026, 12, 31), None, True),
        (datetime.date(2026, 6, 1), datetime.date(2027, 6, 1), True),
        (datetime.date(2025, 1, 1), datetime.date(2026, 1, 1), True),
        (datetime.date(2027, 1, 1), None, False),
        (datetime.date(2025, 1, 1), datetime.date(2025, 12, 31), False),
    ],
)
def test_tariff_periods_of_one_act_never_overlap(db, valid_from, valid_until, overlaps):
    consult = Act.objects.get(code="CONSULT")
    insurer_tariff_save(
        act=consult,
        amount=Decimal("52.40"),
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 12, 31),
    )

    if overlaps:
        with pytest.raises(DomainError) as error:
            insurer_tariff_save(
                act=consult, amount=Decimal("55"), valid_from=valid_from, valid_until=valid_until
            )
        assert error.value.field == "valid_from"
        assert "01-01-2026" in str(error.value.message)
        assert InsurerTariff.objects.count() == 1
    else:
        insurer_tariff_save(
            act=consult, amount=Decimal("55"), valid_from=valid_from, valid_until=valid_until
        )
        assert InsurerTariff.objects.count() == 2


def test_periods_of_different_acts_may_overlap_and_a_period_may_be_changed(db):
    today = timezone.localdate()
    tariff = insurer_tariff_save(
        act=Act.objects.get(code="CONSULT"),
        amount=Decimal("52.4"),
        valid_from=today,
        valid_until=None,
    )
    insurer_tariff_save(
        act=Act.objects.get(code="VISITE"),
        amount=Decimal("78.6"),
        valid_from=today,
        valid_until=None,
    )

    changed = insurer_tariff_save(
        act=tariff.act, amount=Decimal("53"), valid_from=today, valid_until=None, tariff=tariff
    )

    assert changed.amount == Decimal("53.00")


@pytest.mark.parametrize(
    ("amount", "valid_until", "field"),
    [(Decimal("0"), None, "amount"), (Decimal("10"), datetime.date(2020, 1, 1), "valid_until")],
)
def test_a_tariff_must_be_positive_with_a_period_that_is_not_reversed(
    db, amount, valid_until, field
):
    with pytest.raises(DomainError) as error:
        insurer_tariff_save(
            act=Act.objects.get(code="CONSULT"),
            amount=amount,
            valid_from=datetime.date(2026, 1, 1),
            valid_until=valid_until,
        )
    assert error.value.field == field


# --- Documents, breaches, termination -----------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_signed_documents_get_versions_and_keep_the_earlier_ones(staff, location):
    contract = ContractFactory(location=location)
    secretariat = staff[Role.SECRETARIAT]

    first = services.contract_document_upload(
        contract=contract, by=secretariat, uploaded_file=SimpleUploadedFile("getekend.pdf", PDF)
    )
    second = services.contract_document_upload(
        contract=contract, by=secretariat, uploaded_file=SimpleUploadedFile("v2.pdf", PDF)
    )

    assert (first.version, second.version) == (1, 2)
    assert list(contract.documents.values_list("version", flat=True)) == [2, 1]
    assert first.file.read() == PDF
    assert contract.events.filter(kind=ContractEventKind.DOCUMENT_UPLOADED).count() == 2


def test_a_document_that_is_not_a_pdf_is_refused(staff, location):
    contract = ContractFactory(location=location)

    with pytest.raises(DomainError) as error:
        services.contract_document_upload(
            contract=contract,
            by=staff[Role.SECRETARIAT],
            uploaded_file=SimpleUploadedFile("contract.docx", b"PK\x03\x04 word"),
        )

    assert error.value.field == "file"
    assert not contract.documents.exists()


def test_only_the_regions_secretariat_manages_the_contract(staff, location, make_user, flevoland):
    contract = ContractFactory(location=location)
    other_region = make_user(Role.SECRETARIAT, region=flevoland)

    for user in (staff[Role.QUALITY_TEAM], other_region):
        with pytest.raises(DomainError):
            services.contract_terminate(
                contract=contract, by=user, terminated_on=timezone.localdate(), reason="x"
            )


def test_a_breach_escalates_forward_only_and_every_step_is_in_the_history(staff, location):
    contract = ContractFactory(location=location)
    manager = staff[Role.LOCATION_MANAGER]
    breach = breaches.breach_record(
        contract=contract,
        by=manager,
        observed_on=timezone.localdate(),
        agreement="SO bereikbaar voor de dienstdoende huisarts",
        description="Zaterdagnacht geen SO bereikbaar.",
    )

    breaches.breach_escalate(
        breach=breach, by=manager, escalation_step=EscalationStep.ZORGKANTOOR, note="Gemeld."
    )
    with pytest.raises(DomainError) as error:
        breaches.breach_escalate(
            breach=breach, by=manager, escalation_step=EscalationStep.CARE_ORGANISATION, note=""
        )

    assert error.value.field == "escalation_step"
    assert breach.escalation_step == EscalationStep.ZORGKANTOOR
    assert list(contract.events.values_list("kind", flat=True)) == [
        ContractEventKind.BREACH_RECORDED,
        ContractEventKind.BREACH_ESCALATED,
    ]


def test_a_written_warning_needs_a_term(staff, location):
    contract = ContractFactory(location=location)
    breach = breaches.breach_record(
        contract=contract,
        by=staff[Role.SECRETARIAT],
        observed_on=timezone.localdate(),
        agreement="Verpleegkundige triage vooraf",
        description="Drie keer zonder metingen gebeld.",
    )

    with pytest.raises(DomainError) as error:
        breaches.breach_action_record(
            breach=breach,
            by=staff[Role.SECRETARIAT],
            kind=BreachActionKind.WRITTEN_WARNING,
            description="Brief met termijn.",
        )
    assert error.value.field == "deadline"

    action = breaches.breach_action_record(
        breach=breach,
        by=staff[Role.SECRETARIAT],
        kind=BreachActionKind.WRITTEN_WARNING,
        description="Brief met termijn.",
        deadline=timezone.localdate() + datetime.timedelta(days=14),
    )
    breaches.breach_action_complete(
        action=action, by=staff[Role.SECRETARIAT], completed_on=timezone.localdate()
    )
    with pytest.raises(DomainError):
        breaches.breach_action_complete(
            action=action, by=staff[Role.SECRETARIAT], completed_on=timezone.localdate()
        )
    assert contract.events.filter(kind=ContractEventKind.ACTION_COMPLETED).count() == 1


def test_termination_ends_the_contract_with_reason_and_date(staff, location):
    contract = ContractFactory(location=location)
    today = timezone.localdate()

    services.contract_terminate(
        contract=contract,
        by=staff[Role.SECRETARIAT],
        terminated_on=today,
        reason="Na waarschuwing.",
    )

    assert contract.status_on(today) == ContractStatus.TERMINATED
    assert contract.termination_reason == "Na waarschuwing."
    with pytest.raises(DomainError):
        services.contract_terminate(
            contract=contract, by=staff[Role.SECRETARIAT], terminated_on=today, reason="Nogmaals."
        )


def test_a_termination_reason_over_its_limit_is_refused_and_the_contract_runs_on(staff, location):
    contract = ContractFactory(location=location)
    today = timezone.localdate()

    with pytest.raises(DomainError) as error:
        services.contract_terminate(
            contract=contract,
            by=staff[Role.SECRETARIAT],
            terminated_on=today,
            reason="x" * (TextLimit.REASON + 1),
        )

    assert error.value.field == "reason"
    contract.refresh_from_db()
    assert contract.terminated_on is None and contract.termination_reason == ""
    assert not contract.events.filter(kind=ContractEventKind.TERMINATED).exists()


def test_a_breach_description_over_its_limit_is_refused_and_nothing_is_recorded(staff, location):
    contract = ContractFactory(location=location)

    with pytest.raises(DomainError) as error:
        breaches.breach_record(
            contract=contract,
            by=staff[Role.SECRETARIAT],
            observed_on=timezone.localdate(),
            agreement="SO/AVG bereikbaar",
            description="x" * (TextLimit.DESCRIPTION + 1),
        )

    assert error.value.field == "description"
    assert not contract.breaches.exists() and not contract.events.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_contract_history_cannot_be_changed_or_deleted(location):
    contract = ContractFactory(location=location)
    event = ContractEvent.objects.create(contract=contract, kind=ContractEventKind.CREATED)

    for statement in (
        "UPDATE hap_contracting_contractevent SET description = 'x' WHERE id = %s",
        "DELETE FROM hap_contracting_contractevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])


def test_a_contract_keeps_the_insurer_tariffs_valid_on_its_start_date(ready_to_contract, staff):
    """So that its 2 x tariff floor can be explained after finance changed the tariffs."""
    insurer_tariffs(datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))
    insurer_tariffs(
        datetime.date(2026, 1, 1),
        amounts={"CONSULT": Decimal("60.00"), "VISITE": Decimal("90"), "TELEFOON": Decimal("30")},
    )
    contract = services.contract_create_for_request(
        admission_request=ready_to_contract,
        by=staff[Role.SECRETARIAT],
        terms=with_treatment(
            datetime.date(2025, 6, 1), CONSULT="104.80", VISITE="157.20", TELEFOON="52.40"
        ),
    )

    InsurerTariff.objects.filter(valid_from=datetime.date(2025, 1, 1)).update(amount=Decimal("1"))
    contract.refresh_from_db()

    kept = {row["act"]: row for row in contract.tariffs_on_start}
    assert set(kept) == {"CONSULT", "VISITE", "TELEFOON"}
    assert kept["CONSULT"]["amount"] == "52.40"
    assert kept["CONSULT"]["valid_from"] == "2025-01-01"
    assert kept["CONSULT"]["valid_until"] == "2025-12-31"


def test_the_contract_shows_the_tariffs_it_was_checked_against_after_they_changed(
    ready_to_contract, staff
):
    from hap_contracting.contracts.selectors import contract_rate_rows

    insurer_tariffs(datetime.date(2025, 1, 1))
    contract = services.contract_create_for_request(
        admission_request=ready_to_contract,
        by=staff[Role.SECRETARIAT],
        terms=with_treatment(
            datetime.date(2025, 6, 1), CONSULT="104.80", VISITE="157.20", TELEFOON="52.40"
        ),
    )
    # Finance corrects the tariff afterwards (an edit, not a new period).
    InsurerTariff.objects.filter(act__code="CONSULT").update(amount=Decimal("70.00"))

    rows = {row.act.code: row for row in contract_rate_rows(contract)}

    assert rows["CONSULT"].tariff.amount == Decimal("52.40")
    assert rows["CONSULT"].minimum == Decimal("104.80")
    assert not rows["CONSULT"].below_minimum
