"""The contract register, the contract page and the contract flags on "my work": scoped to the
region, thin over the services, a constant number of queries."""

import datetime
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from hap_contracting.contracts.constants import (
    BreachActionKind,
    ContractKind,
    ContractStatus,
    EscalationStep,
)
from hap_contracting.contracts.models import Breach, BreachAction, Contract
from hap_contracting.contracts.services.breaches import breach_action_record, breach_record
from hap_contracting.contracts.services.contracts import contract_document_upload
from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestKind, RequestState
from hap_contracting.procedure.models import Advice, completion_deadline
from hap_contracting.tariffs.models import Act
from tests.contracts.factories import ContractFactory
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory
from tests.tariffs.factories import insurer_tariffs

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name="contract.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def contract(location):
    return ContractFactory(location=location)


@pytest.fixture
def flevoland_contract(flevoland):
    return ContractFactory(
        location=CareLocationFactory(hap_post=flevoland.posts.get(), postcode="1315 HT")
    )


def lapsed_contract(location, today):
    """A contract that ended last week while its renewal is still at the quality team."""
    contract = ContractFactory(
        location=location,
        start_date=today - relativedelta(years=2),
        end_date=today - datetime.timedelta(days=7),
    )
    renewal = AdmissionRequestFactory(
        at_quality_team=True,
        kind=RequestKind.RENEWAL,
        renews_contract=contract,
        location=location,
    )
    return contract, renewal


def register(client, **params):
    return client.get(reverse("contracts:contract_list"), params)


# --- The register ---------------------------------------------------------------------------


def test_the_register_shows_only_the_users_region(
    client, staff, contract, flevoland_contract, make_user
):
    client.force_login(staff[Role.QUALITY_TEAM])

    response = register(client)

    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [contract]
    assert "region" not in response.context["filters"].fields


def test_finance_sees_every_region_and_can_filter_on_one(
    client, staff, contract, flevoland_contract, flevoland
):
    client.force_login(staff[Role.FINANCE])

    everything = register(client)
    only_flevoland = register(client, region=flevoland.pk)

    assert set(everything.context["page"].object_list) == {contract, flevoland_contract}
    assert list(only_flevoland.context["page"].object_list) == [flevoland_contract]


def test_a_user_without_a_role_gets_no_register(client, zwolle, make_user):
    client.force_login(make_user(region=zwolle))

    assert register(client).status_code == 403


def test_the_register_needs_a_login(client):
    response = register(client)

    assert response.status_code == 302
    assert reverse("login") in response.url


def test_the_register_flags_a_contract_expired_with_an_open_renewal(client, staff, location, today):
    lapsed, renewal = lapsed_contract(location, today)
    running = ContractFactory(location=CareLocationFactory(hap_post=location.hap_post))
    client.force_login(staff[Role.SECRETARIAT])

    response = register(client)

    rows = {c.pk: c for c in response.context["page"].object_list}
    assert rows[lapsed.pk].status == ContractStatus.EXPIRED
    assert rows[lapsed.pk].lapsed_unrenewed is True
    assert rows[running.pk].lapsed_unrenewed is False
    content = response.content.decode()
    assert content.count('data-testid="lapsed-flag"') == 1
    assert "Verlopen zonder verlenging" in content
    assert renewal.reference in content


def test_a_contract_whose_renewal_was_completed_is_not_flagged(client, staff, location, today):
    lapsed, renewal = lapsed_contract(location, today)
    type(renewal).objects.filter(pk=renewal.pk).update(state=RequestState.CONTRACTED)
    client.force_login(staff[Role.SECRETARIAT])

    response = register(client, lapsed="on")

    assert list(response.context["page"].object_list) == []


def test_the_register_filters_on_status_month_and_name(client, staff, location, today):
    hof = CareLocationFactory(hap_post=location.hap_post, name="De Hofstee")
    expiring = ContractFactory(
        location=hof,
        start_date=today - relativedelta(years=1),
        end_date=today + relativedelta(months=2),
    )
    active = ContractFactory(location=location)
    client.force_login(staff[Role.SECRETARIAT])

    by_status = register(client, status=ContractStatus.EXPIRING)
    by_month = register(client, month=expiring.end_date.strftime("%Y-%m"))
    by_name = register(client, q="hofst")
    by_organisation = register(client, q=active.organisation.name)
    bad_month = register(client, month="2026-13")

    assert list(by_status.context["page"].object_list) == [expiring]
    assert list(by_month.context["page"].object_list) == [expiring]
    assert list(by_name.context["page"].object_list) == [expiring]
    assert list(by_organisation.context["page"].object_list) == [active]
    assert bad_month.context["filters"].errors["month"]
    assert len(bad_month.context["page"].object_list) == 2


def test_the_register_runs_a_constant_number_of_queries(
    client, staff, location, today, django_assert_max_num_queries
):
    for n in range(30):
        contract = ContractFactory(
            location=CareLocationFactory(hap_post=location.hap_post),
            start_date=today - relativedelta(years=2),
            end_date=today + relativedelta(months=n - 3),
        )
        if n % 2:
            AdmissionRequestFactory(
                kind=RequestKind.RENEWAL, renews_contract=contract, location=contract.location
            )
    client.force_login(staff[Role.SECRETARIAT])

    with django_assert_max_num_queries(8):
        response = register(client)

    assert len(response.context["page"].object_list) == 30


def test_the_chart_counts_contracts_ending_per_month_over_18_months(
    client, staff, location, flevoland_contract, today
):
    this_month = today.replace(day=1)

    def ending(on, **kwargs):
        return ContractFactory(
            location=CareLocationFactory(hap_post=location.hap_post),
            start_date=on - relativedelta(years=2),
            end_date=on,
            **kwargs,
        )

    ending(this_month)  # earlier this month (or today): counted
    ending(this_month + relativedelta(months=1, days=3))
    ending(this_month + relativedelta(months=2) - datetime.timedelta(days=1))  # month end
    ending(this_month + relativedelta(months=17, days=27))  # the 18th month
    ending(this_month + relativedelta(months=18))  # the 19th month: outside
    ending(this_month - datetime.timedelta(days=1))  # last month: outside
    ending(
        this_month + relativedelta(months=1),
        terminated_on=today,
        termination_reason="Opgezegd",
    )
    client.force_login(staff[Role.SECRETARIAT])

    response = register(client)

    chart = response.context["chart"]
    counts = [bar.count for bar in chart.bars]
    assert len(counts) == 18
    assert chart.bars[0].month == this_month
    assert counts == [1, 2] + [0] * 15 + [1]
    assert chart.total == 4
    content = response.content.decode()
    assert "<svg" in content
    assert f'data-key="{this_month:%Y-%m}" data-value="1.0"' in content


# --- The contract page ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [
        Role.SECRETARIAT,
        Role.LOCATION_MANAGER,
        Role.PROGRAMME_MANAGER,
        Role.QUALITY_TEAM,
        Role.REGIONAL_COUNCIL,
        Role.FINANCE,
        Role.ADMINISTRATOR,
    ],
)
def test_the_contract_page_opens_for_every_role_of_the_region(client, staff, contract, role):
    client.force_login(staff[role])

    response = client.get(reverse("contracts:contract_detail", args=[contract.pk]))

    assert response.status_code == 200
    forms = response.context
    assert ("document_form" in forms) is (role == Role.SECRETARIAT)
    assert ("terminate_form" in forms) is (role == Role.SECRETARIAT)
    assert ("breach_form" in forms) is (role in (Role.SECRETARIAT, Role.LOCATION_MANAGER))


def test_another_regions_contract_is_not_found(client, staff, flevoland_contract):
    client.force_login(staff[Role.SECRETARIAT])

    url = reverse("contracts:contract_detail", args=[flevoland_contract.pk])
    page = client.get(url)
    post = client.post(url, {"form": "terminate", "terminated_on": "2025-01-01", "reason": "x"})

    assert page.status_code == 404
    assert post.status_code == 404
    flevoland_contract.refresh_from_db()
    assert flevoland_contract.terminated_on is None


def test_the_contract_page_shows_rates_against_the_insurer_tariff(client, staff, location):
    contract = ContractFactory(location=location, kind=ContractKind.WLZ_WITH_TREATMENT)
    insurer_tariffs(contract.start_date - relativedelta(years=1))
    contract.rates.create(act_id=_act("CONSULT"), amount=Decimal("110.00"))
    contract.rates.create(act_id=_act("VISITE"), amount=Decimal("150.00"))  # below 2 × 78.60
    client.force_login(staff[Role.QUALITY_TEAM])

    response = client.get(reverse("contracts:contract_detail", args=[contract.pk]))

    rows = {row.act.code: row for row in response.context["rate_rows"]}
    assert rows["CONSULT"].minimum == Decimal("104.80")
    assert not rows["CONSULT"].below_minimum
    assert rows["VISITE"].below_minimum
    assert rows["TELEFOON"].amount is None  # a tariff without an agreed rate is listed too


def _act(code):
    return Act.objects.get(code=code).pk


def test_the_contract_page_runs_a_constant_number_of_queries(
    client, staff, contract, django_assert_max_num_queries
):
    secretary = staff[Role.SECRETARIAT]
    insurer_tariffs(contract.start_date)
    for version in range(3):
        contract_document_upload(contract=contract, by=secretary, uploaded_file=pdf(f"v{version}"))
    for n in range(5):
        breach = breach_record(
            contract=contract,
            by=secretary,
            observed_on=timezone.localdate() - datetime.timedelta(days=n),
            agreement=f"Afspraak {n}",
            description="Niet bereikbaar.",
        )
        breach_action_record(
            breach=breach,
            by=secretary,
            kind=BreachActionKind.WRITTEN_WARNING,
            description="Brief",
            deadline=timezone.localdate() + datetime.timedelta(days=14),
        )
    contract.other_locations.add(CareLocationFactory(hap_post=contract.location.hap_post))
    client.force_login(secretary)

    with django_assert_max_num_queries(16):
        response = client.get(reverse("contracts:contract_detail", args=[contract.pk]))

    assert len(response.context["breaches"]) == 5
    assert len(response.context["documents"]) == 3


# --- Signed documents -----------------------------------------------------------------------


def test_the_secretariat_uploads_version_1_then_version_2(client, staff, contract):
    client.force_login(staff[Role.SECRETARIAT])
    url = reverse("contracts:contract_detail", args=[contract.pk])

    first = client.post(url, {"form": "document", "file": pdf("getekend.pdf"), "note": ""})
    second = client.post(
        url, {"form": "document", "file": pdf("getekend-2.pdf"), "note": "Bijlage"}
    )

    assert first.status_code == second.status_code == 302
    versions = list(contract.documents.order_by("version").values_list("version", "original_name"))
    assert versions == [(1, "getekend.pdf"), (2, "getekend-2.pdf")]
    page = client.get(url)
    assert [d.version for d in page.context["documents"]] == [2, 1]


def test_a_file_that_is_not_a_pdf_is_refused_with_a_message_on_the_field(client, staff, contract):
    client.force_login(staff[Role.SECRETARIAT])

    response = client.post(
        reverse("contracts:contract_detail", args=[contract.pk]),
        {"form": "document", "file": pdf("contract.docx", b"PK\x03\x04 word")},
    )

    assert response.status_code == 200
    assert response.context["document_form"].errors["file"] == [
        "Upload het getekende contract als pdf-bestand."
    ]
    assert not contract.documents.exists()


def test_a_location_manager_may_not_upload(client, staff, contract):
    client.force_login(staff[Role.LOCATION_MANAGER])

    response = client.post(
        reverse("contracts:contract_detail", args=[contract.pk]),
        {"form": "document", "file": pdf()},
    )

    assert response.status_code == 403
    assert not contract.documents.exists()


def test_a_document_is_served_only_to_users_of_the_region(
    client, staff, contract, flevoland, make_user
):
    document = contract_document_upload(
        contract=contract, by=staff[Role.SECRETARIAT], uploaded_file=pdf("getekend.pdf")
    )
    url = reverse("contracts:contract_document", args=[contract.pk, document.pk])

    anonymous = client.get(url)
    client.force_login(make_user(Role.SECRETARIAT, region=flevoland))
    other_region = client.get(url)
    client.force_login(staff[Role.QUALITY_TEAM])
    own_region = client.get(url)

    assert anonymous.status_code == 302 and reverse("login") in anonymous.url
    assert other_region.status_code == 404
    assert own_region.status_code == 200
    assert own_region["Content-Type"] == "application/pdf"
    assert 'filename="getekend.pdf"' in own_region["Content-Disposition"]
    assert b"".join(own_region.streaming_content) == PDF


def test_a_document_is_not_found_through_another_contract(client, staff, contract, location):
    other = ContractFactory(location=CareLocationFactory(hap_post=location.hap_post))
    document = contract_document_upload(
        contract=contract, by=staff[Role.SECRETARIAT], uploaded_file=pdf()
    )
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(reverse("contracts:contract_document", args=[other.pk, document.pk]))

    assert response.status_code == 404


def test_documents_are_stored_outside_any_public_url(client, staff, contract):
    document = contract_document_upload(
        contract=contract, by=staff[Role.SECRETARIAT], uploaded_file=pdf()
    )
    client.force_login(staff[Role.SECRETARIAT])

    page = client.get(reverse("contracts:contract_detail", args=[contract.pk]))

    assert document.file.url not in page.content.decode()


# --- Breaches, actions, termination ---------------------------------------------------------


def test_a_location_manager_records_a_breach_and_a_warning_without_term_is_refused(
    client, staff, contract
):
    client.force_login(staff[Role.LOCATION_MANAGER])
    url = reverse("contracts:contract_detail", args=[contract.pk])

    recorded = client.post(
        url,
        {
            "form": "breach",
            "observed_on": timezone.localdate().isoformat(),
            "agreement": "AVG bereikbaar voor de dienstdoende huisarts",
            "description": "Zaterdagnacht niet bereikbaar.",
            "escalation_step": EscalationStep.CARE_ORGANISATION,
        },
    )
    breach = Breach.objects.get(contract=contract)
    refused = client.post(
        url,
        {
            "form": "action",
            "breach": breach.pk,
            "kind": BreachActionKind.WRITTEN_WARNING,
            "description": "Brief met termijn",
        },
    )

    assert recorded.status_code == 302
    assert refused.status_code == 200
    form = refused.context["breaches"][0].action_form
    assert form.errors["deadline"] == [
        "Een schriftelijke waarschuwing heeft een termijn nodig: geef de uiterste datum."
    ]
    assert not BreachAction.objects.exists()


def test_a_breach_is_escalated_and_its_action_completed(client, staff, contract):
    secretary = staff[Role.SECRETARIAT]
    breach = breach_record(
        contract=contract,
        by=secretary,
        observed_on=timezone.localdate(),
        agreement="Verpleegkundige triage vooraf",
        description="Geen triage.",
    )
    action = breach_action_record(
        breach=breach,
        by=secretary,
        kind=BreachActionKind.WRITTEN_WARNING,
        description="Brief",
        deadline=timezone.localdate() + datetime.timedelta(days=14),
    )
    client.force_login(secretary)
    url = reverse("contracts:contract_detail", args=[contract.pk])

    escalated = client.post(
        url,
        {
            "form": "escalate",
            "breach": breach.pk,
            "escalation_step": EscalationStep.ZORGKANTOOR,
            "note": "Herhaald.",
        },
    )
    completed = client.post(
        url,
        {
            "form": "complete-action",
            "action": action.pk,
            "completed_on": timezone.localdate().isoformat(),
        },
    )

    assert escalated.status_code == completed.status_code == 302
    breach.refresh_from_db()
    action.refresh_from_db()
    assert breach.escalation_step == EscalationStep.ZORGKANTOOR
    assert action.completed_on == timezone.localdate()
    page = client.get(url)
    offered = page.context["breaches"][0].escalate_form.fields["escalation_step"].choices
    assert [value for value, _label in offered] == [
        EscalationStep.RHO,
        EscalationStep.REGIONAL_TABLE,
    ]


def test_a_breach_of_another_contract_cannot_be_posted_through_this_one(client, staff, contract):
    other = ContractFactory(location=CareLocationFactory(hap_post=contract.location.hap_post))
    breach = breach_record(
        contract=other,
        by=staff[Role.SECRETARIAT],
        observed_on=timezone.localdate(),
        agreement="x",
        description="y",
    )
    client.force_login(staff[Role.SECRETARIAT])

    response = client.post(
        reverse("contracts:contract_detail", args=[contract.pk]),
        {"form": "action", "breach": breach.pk, "kind": "other", "description": "z"},
    )

    assert response.status_code == 404


def test_the_secretariat_terminates_a_contract(client, staff, contract, today):
    client.force_login(staff[Role.SECRETARIAT])
    url = reverse("contracts:contract_detail", args=[contract.pk])

    refused = client.post(
        url, {"form": "terminate", "terminated_on": today.isoformat(), "reason": " "}
    )
    response = client.post(
        url,
        {
            "form": "terminate",
            "terminated_on": today.isoformat(),
            "reason": "Structureel geen achterwacht.",
        },
    )

    assert refused.status_code == 200
    assert refused.context["terminate_form"].errors
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.terminated_on == today
    page = client.get(url)
    assert page.context["contract"].status == ContractStatus.TERMINATED
    assert "terminate_form" not in page.context
    assert "Structureel geen achterwacht." in page.content.decode()


def test_the_quality_team_may_not_terminate(client, staff, contract, today):
    client.force_login(staff[Role.QUALITY_TEAM])

    response = client.post(
        reverse("contracts:contract_detail", args=[contract.pk]),
        {"form": "terminate", "terminated_on": today.isoformat(), "reason": "x"},
    )

    assert response.status_code == 403


# --- My work --------------------------------------------------------------------------------


def _in_contracting(location, approved_on, manager):
    request = AdmissionRequestFactory(
        in_contracting=True,
        location=location,
        assigned_location_manager=manager,
        outcome_recorded_at=timezone.now(),
    )
    Advice.objects.create(
        admission_request=request,
        step=AdviceStep.REGIONAL_COUNCIL,
        outcome=AdviceOutcome.POSITIVE,
        motivation="Akkoord.",
        decided_on=approved_on,
        decided_by=manager,
    )
    return request


def test_my_work_flags_a_lapsed_renewal_and_the_completion_deadline(client, staff, location, today):
    secretary = staff[Role.SECRETARIAT]
    manager = staff[Role.LOCATION_MANAGER]
    lapsed, renewal = lapsed_contract(location, today)
    type(renewal).objects.filter(pk=renewal.pk).update(state=RequestState.RECEIVED)
    near = _in_contracting(
        CareLocationFactory(hap_post=location.hap_post),
        today - relativedelta(months=6) + datetime.timedelta(days=10),
        manager,
    )
    overdue = _in_contracting(
        CareLocationFactory(hap_post=location.hap_post),
        today - relativedelta(months=7),
        manager,
    )
    client.force_login(secretary)

    response = client.get(reverse("dashboard:my_work"))

    rows = {row.pk: row for row in response.context["page"].object_list}
    assert rows[renewal.pk].contract_lapsed is True
    assert rows[near.pk].deadline_near and not rows[near.pk].deadline_passed
    assert rows[overdue.pk].deadline_passed
    content = response.content.decode()
    deadline = date_format(completion_deadline(near.advices.get().decided_on), "j F Y")
    assert f"Afronden vóór {deadline}" in content
    assert "Termijn verstreken" in content
    assert response.context["lapsed_contracts"] == [lapsed]
    assert 'data-testid="lapsed-contracts"' in content


def test_my_work_with_contract_flags_runs_a_constant_number_of_queries(
    client, staff, location, today, django_assert_max_num_queries
):
    manager = staff[Role.LOCATION_MANAGER]
    for n in range(15):
        _in_contracting(
            CareLocationFactory(hap_post=location.hap_post),
            today - relativedelta(months=5, days=n * 3),
            manager,
        )
        contract = ContractFactory(
            location=CareLocationFactory(hap_post=location.hap_post),
            start_date=today - relativedelta(years=2),
            end_date=today - datetime.timedelta(days=n + 1),
        )
        AdmissionRequestFactory(
            kind=RequestKind.RENEWAL, renews_contract=contract, location=contract.location
        )
    client.force_login(staff[Role.SECRETARIAT])

    with django_assert_max_num_queries(9):
        response = client.get(reverse("dashboard:my_work"))

    assert len(response.context["page"].object_list) == 30
    assert len(response.context["lapsed_contracts"]) == 10
    assert response.context["lapsed_more"] is True


def test_my_work_lists_the_ten_longest_lapsed_contracts_and_sends_to_the_register_for_more(
    client, staff, location, today
):
    lapsed = [
        ContractFactory(
            location=CareLocationFactory(hap_post=location.hap_post),
            start_date=today - relativedelta(years=2),
            end_date=today - datetime.timedelta(days=n + 1),
        )
        for n in range(11)
    ]
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(reverse("dashboard:my_work"))

    longest_ago_first = sorted(lapsed, key=lambda contract: contract.end_date)
    assert response.context["lapsed_contracts"] == longest_ago_first[:10]
    content = response.content.decode()
    assert longest_ago_first[10].reference not in content
    assert "Hier staan de 10 die het langst geleden afliepen" in content
    assert f"{reverse('contracts:contract_list')}?lapsed=on" in content


def test_my_work_says_nothing_of_more_when_every_lapsed_contract_is_listed(
    client, staff, location, today
):
    for n in range(10):
        ContractFactory(
            location=CareLocationFactory(hap_post=location.hap_post),
            start_date=today - relativedelta(years=2),
            end_date=today - datetime.timedelta(days=n + 1),
        )
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(reverse("dashboard:my_work"))

    assert len(response.context["lapsed_contracts"]) == 10
    assert 'data-testid="lapsed-more"' not in response.content.decode()


# --- Navigation and the complete-contracting form -------------------------------------------


def test_the_navigation_links_to_the_register_for_users_with_a_role(
    client, staff, zwolle, make_user
):
    client.force_login(staff[Role.LOCATION_MANAGER])
    with_role = client.get(reverse("dashboard:my_work")).content.decode()
    client.force_login(make_user(region=zwolle))
    without_role = client.get(reverse("dashboard:my_work")).content.decode()

    link = f'href="{reverse("contracts:contract_list")}"'
    assert link in with_role
    assert link not in without_role


def in_contracting_with_tariffs(staff, location, today):
    """A request at the secretariat's contracting step, with last month's insurer tariffs."""
    insurer_tariffs(today - relativedelta(months=1))
    return AdmissionRequestFactory(
        in_contracting=True,
        location=location,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
        outcome_recorded_at=timezone.now(),
    )


def test_the_complete_contracting_form_shows_tariff_and_minimum_per_act(
    client, staff, location, today
):
    request = in_contracting_with_tariffs(staff, location, today)
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(reverse("contracts:complete_contracting", args=[request.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="rate_CONSULT"' in content
    assert "€ 52,40" in content and "€ 104,80" in content  # Dutch form, not 52.40


def test_the_form_refuses_a_rate_below_twice_the_tariff_on_its_field(
    client, staff, location, today
):
    request = in_contracting_with_tariffs(staff, location, today)
    client.force_login(staff[Role.SECRETARIAT])
    url = reverse("contracts:complete_contracting", args=[request.pk])

    response = client.post(
        url,
        {
            "completed_on": today.isoformat(),
            "kind": ContractKind.WLZ_WITH_TREATMENT,
            "start_date": today.isoformat(),
            "rate_CONSULT": "100.00",  # 2 × 52.40 = 104.80
            "rate_VISITE": "200.00",
            "rate_TELEFOON": "60.00",
            "confirmed": "1",
        },
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "104,80" in errors["rate_CONSULT"][0] or "104.80" in errors["rate_CONSULT"][0]
    assert "rate_VISITE" not in errors
    assert not Contract.objects.exists()


def test_a_finished_request_links_to_its_contract_and_the_contract_back(client, staff, location):
    request = AdmissionRequestFactory(location=location, state=RequestState.CONTRACTED)
    contract = ContractFactory(location=location, admission_request=request)
    client.force_login(staff[Role.SECRETARIAT])

    request_page = client.get(reverse("procedure:request_detail", args=[request.pk]))
    contract_page = client.get(reverse("contracts:contract_detail", args=[contract.pk]))

    contract_url = reverse("contracts:contract_detail", args=[contract.pk])
    assert (
        f'href="{contract_url}" data-testid="resulting-contract"' in request_page.content.decode()
    )
    request_url = reverse("procedure:request_detail", args=[request.pk])
    assert f'href="{request_url}"' in contract_page.content.decode()


def test_a_renewal_request_links_to_the_contract_it_renews(client, staff, location):
    contract = ContractFactory(location=location)
    renewal = AdmissionRequestFactory(
        location=location, kind=RequestKind.RENEWAL, renews_contract=contract
    )
    client.force_login(staff[Role.SECRETARIAT])

    page = client.get(reverse("procedure:request_detail", args=[renewal.pk]))

    contract_url = reverse("contracts:contract_detail", args=[contract.pk])
    assert f'href="{contract_url}" data-testid="renewed-contract"' in page.content.decode()
    assert contract.reference in page.content.decode()


def test_adding_a_document_says_what_happened_not_just_saved(client, staff, contract):
    client.force_login(staff[Role.SECRETARIAT])
    url = reverse("contracts:contract_detail", args=[contract.pk])

    response = client.post(url, {"form": "document", "file": pdf(), "note": ""}, follow=True)

    said = [str(message) for message in response.context["messages"]]
    assert said == [f"Het document is aan contract {contract.reference} toegevoegd."]


def complete_contracting_data(today, **extra):
    return {
        "completed_on": today.isoformat(),
        "kind": ContractKind.WLZ_WITH_TREATMENT,
        "start_date": today.isoformat(),
        "rate_CONSULT": "104.80",
        "rate_VISITE": "157.20",
        "rate_TELEFOON": "52.40",
        **extra,
    }


def test_completing_contracting_is_confirmed_first_and_back_keeps_the_rates(
    client, staff, location, today
):
    request = in_contracting_with_tariffs(staff, location, today)
    client.force_login(staff[Role.SECRETARIAT])
    url = reverse("contracts:complete_contracting", args=[request.pk])

    first = client.post(url, complete_contracting_data(today))
    request.refresh_from_db()
    state_after_first = request.state
    back = client.post(url, complete_contracting_data(today, back="1"))
    confirmed = client.post(url, complete_contracting_data(today, confirmed="1"))

    assert first.status_code == 200
    assert "kan niet meer worden heropend" in first.context["confirmation"].consequence
    assert "€ 104,80" in first.content.decode()
    assert state_after_first == RequestState.CONTRACTING
    assert back.context["confirmation"] is None
    assert back.context["form"]["rate_VISITE"].value() == "157.20"
    assert confirmed.status_code == 302
    request.refresh_from_db()
    assert request.state == RequestState.CONTRACTED
    assert Contract.objects.get().rates.count() == 3


def test_before_confirming_no_contract_is_made(client, staff, location, today):
    request = in_contracting_with_tariffs(staff, location, today)
    client.force_login(staff[Role.SECRETARIAT])

    client.post(
        reverse("contracts:complete_contracting", args=[request.pk]),
        complete_contracting_data(today),
    )

    assert not Contract.objects.exists()
