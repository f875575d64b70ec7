"""Every form of the app (not the Django admin) follows the NL Design System form guidelines:
sent back with errors, it starts with an error summary that links each error to its field by
the field's id and names the field; the field repeats its error, linked to the input by
aria-describedby, with aria-invalid on the input; optional fields say "(optioneel)" in the label
(no asterisk); and the browser's own validation bubbles are off (novalidate) while the inputs
keep their ``required``. One place renders all of it: the crispy template pack's overrides in
templates/bootstrap5/ and templates/_error_summary.html."""

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from hap_contracting.billing.models import AdministrativeCost, Invoice
from hap_contracting.billing.services.sender import invoice_sender_save
from hap_contracting.contracts.constants import BreachActionKind
from hap_contracting.contracts.services.breaches import breach_action_record, breach_record
from hap_contracting.core.roles import Role
from hap_contracting.procedure.services.pre_assessment import pre_assessment_start
from tests.billing.factories import (
    AddressInvestigationFactory,
    ClaimFactory,
    ClaimImportFactory,
    second_finance_user,
)
from tests.billing.test_ubl import SENDER
from tests.contracts.factories import ContractFactory
from tests.procedure.factories import AdmissionRequestFactory
from tests.system.html import Node, parse
from tests.tariffs.factories import insurer_tariffs

pytestmark = pytest.mark.django_db

SUMMARY_TITLE = "Er is iets niet goed ingevuld"
OPTIONAL = "(optioneel)"
ROOT = Path(__file__).resolve().parents[2]


# --- The form pages, each posted empty or invalid -------------------------------------------
# A case returns the response and the ids of the fields that must be reported. A browser sends
# every field, empty or not (and the CSRF token): an empty field is posted as "", since a view
# that binds ``request.POST or None`` shows a request without any field as a new form.


def login(client, staff, location):
    return client.post(reverse("login"), {}), ["id_username", "id_password"]


def password_reset(client, staff, location):
    return client.post(reverse("accounts:password_reset"), {}), ["id_email"]


def password_reset_confirm(client, staff, location):
    user = staff[Role.SECRETARIAT]
    link = reverse(
        "accounts:password_reset_confirm",
        args=[
            urlsafe_base64_encode(force_bytes(user.pk)),
            default_token_generator.make_token(user),
        ],
    )
    form_page = client.get(link, follow=True)
    return client.post(form_page.redirect_chain[-1][0], {}), [
        "id_new_password1",
        "id_new_password2",
    ]


def password_change(client, staff, location):
    client.force_login(staff[Role.SECRETARIAT])
    response = client.post(reverse("accounts:password_change"), {})
    return response, ["id_old_password", "id_new_password1", "id_new_password2"]


def two_factor_setup(client, staff, location):
    client.force_login(staff[Role.REGIONAL_COUNCIL])
    return client.post(reverse("accounts:two_factor_setup"), {"token": ""}), ["id_token"]


def two_factor_verify(client, staff, location):
    council = staff[Role.REGIONAL_COUNCIL]
    TOTPDevice.objects.create(user=council, name="telefoon", confirmed=True)
    client.force_login(council)
    return client.post(reverse("accounts:two_factor_verify"), {"token": "12a"}), ["id_token"]


def request_create(client, staff, location):
    client.force_login(staff[Role.SECRETARIAT])
    response = client.post(reverse("procedure:request_create"), {"requester_name": ""})
    fields = ["location", "kind", "received_on", "requester_name", "requester_email"]
    return response, [f"id_{name}" for name in fields]


def _action(client, user, request, action, data=None):
    client.force_login(user)
    return client.post(reverse("procedure:request_action", args=[request.pk, action]), data or {})


def request_forward(client, staff, location):
    request = AdmissionRequestFactory(location=location)
    response = _action(client, staff[Role.SECRETARIAT], request, "forward")
    return response, ["id_location_manager"]


def request_council_decision(client, staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)
    response = _action(client, staff[Role.REGIONAL_COUNCIL], request, "decide-council")
    # A radio group is linked by its first option: its label points at no single input.
    return response, ["id_outcome_0", "id_motivation", "id_decided_on"]


def request_record_outcome(client, staff, location):
    manager = staff[Role.LOCATION_MANAGER]
    request = AdmissionRequestFactory(
        in_contracting=True, location=location, assigned_location_manager=manager
    )
    return _action(client, manager, request, "record-outcome"), ["id_notes"]


def request_withdraw(client, staff, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    return _action(client, staff[Role.SECRETARIAT], request, "withdraw"), ["id_reason"]


def complete_contracting(client, staff, location):
    request = AdmissionRequestFactory(
        in_contracting=True,
        location=location,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
        outcome_recorded_at=timezone.now(),
    )
    client.force_login(staff[Role.SECRETARIAT])
    response = client.post(
        reverse("contracts:complete_contracting", args=[request.pk]), {"note": ""}
    )
    return response, ["id_completed_on", "id_kind", "id_start_date"]


def requester_withdraws(client, staff, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    url = reverse("procedure:requester_status", args=[request.public_token])
    return client.post(url, {"reason": ""}), ["id_reason"]


def location_create(client, staff, location):
    client.force_login(staff[Role.SECRETARIAT])
    response = client.post(reverse("organisations:location_create"), {"house_number": "drie"})
    fields = ["name", "street", "house_number", "postcode", "city", "number_of_residents"]
    return response, [f"id_{name}" for name in fields]


def checklist_submitted_empty(client, staff, location):
    manager = staff[Role.LOCATION_MANAGER]
    request = AdmissionRequestFactory(
        in_pre_assessment=True, location=location, assigned_location_manager=manager
    )
    pre_assessment_start(admission_request=request, by=manager)
    client.force_login(manager)
    response = client.post(reverse("procedure:checklist", args=[request.pk]), {"submit": ""})
    form = response.context["form"]
    assert len(form.errors) > 5  # every item unanswered
    # A radio group (yes/no, a choice) is linked by its first option.
    return response, [form[name].id_for_label or f"{form[name].auto_id}_0" for name in form.errors]


def claim_import(client, staff, location):
    client.force_login(staff[Role.FINANCE])
    return client.post(reverse("billing:claim_import_list"), {"file": ""}), ["id_file"]


def _investigation(location):
    investigation = AddressInvestigationFactory(
        post=location.hap_post, postcode=location.postcode, house_number=location.house_number
    )
    ClaimFactory(
        location=None,
        post=location.hap_post,
        postcode=location.postcode,
        house_number=location.house_number,
        house_number_addition="",
    )
    return reverse("billing:investigation_detail", args=[investigation.pk])


def investigation_location(client, staff, location):
    url = _investigation(location)
    client.force_login(staff[Role.LOCATION_MANAGER])
    return client.post(url, {"form": "location"}), ["id_location"]


def investigation_notification(client, staff, location):
    url = _investigation(location)
    client.force_login(staff[Role.LOCATION_MANAGER])
    client.post(url, {"form": "location", "location": location.pk})
    response = client.post(url, {"form": "notification"})
    return response, ["id_notified_on", "id_notified_how"]


def invoice_generate(client, staff, location):
    client.force_login(staff[Role.FINANCE])
    return client.post(reverse("billing:invoice_list"), {"period": "maart"}), ["id_period"]


def invoice_credit(client, staff, location):
    today = timezone.localdate()
    # Sending e-mails the invoice's documents: the sender's details are needed.
    invoice_sender_save(by=staff[Role.ADMINISTRATOR], **SENDER)
    AdministrativeCost.objects.create(
        amount=Decimal("25.00"), valid_from=today - relativedelta(years=2)
    )
    insurer_tariffs(valid_from=today - relativedelta(years=2))
    location.wlz_treatment_admission = True
    location.save()
    ClaimFactory(location=location, claim_import=ClaimImportFactory())
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    client.force_login(staff[Role.FINANCE])
    client.post(reverse("billing:invoice_list"), {"period": f"{last_month:%Y-%m}"})
    url = reverse("billing:invoice_detail", args=[Invoice.objects.get().pk])
    # Four eyes: another finance user approves what this one made.
    client.force_login(second_finance_user(staff[Role.FINANCE]))
    client.post(url, {"form": "approve", "confirmed": "1"})
    client.force_login(staff[Role.FINANCE])
    client.post(url, {"form": "send", "confirmed": "1"})
    return client.post(url, {"form": "credit"}), ["id_reason"]


def _contract_post(client, user, contract, data):
    client.force_login(user)
    return client.post(reverse("contracts:contract_detail", args=[contract.pk]), data)


def _breach(contract, staff):
    return breach_record(
        contract=contract,
        by=staff[Role.SECRETARIAT],
        observed_on=timezone.localdate(),
        agreement="Verpleegkundige triage vooraf",
        description="Geen triage.",
    )


def contract_document(client, staff, location):
    contract = ContractFactory(location=location)
    response = _contract_post(client, staff[Role.SECRETARIAT], contract, {"form": "document"})
    return response, ["id_document_file"]


def contract_terminate(client, staff, location):
    contract = ContractFactory(location=location)
    data = {"form": "terminate", "terminated_on": "gisteren"}
    response = _contract_post(client, staff[Role.SECRETARIAT], contract, data)
    return response, ["id_terminate_terminated_on", "id_terminate_reason"]


def contract_breach(client, staff, location):
    contract = ContractFactory(location=location)
    response = _contract_post(client, staff[Role.LOCATION_MANAGER], contract, {"form": "breach"})
    fields = ["observed_on", "agreement", "description", "escalation_step"]
    return response, [f"id_breach_{name}" for name in fields]


def contract_breach_action(client, staff, location):
    contract = ContractFactory(location=location)
    breach = _breach(contract, staff)
    _breach(contract, staff)  # a second breach: its action form has the same fields
    data = {"form": "action", "breach": breach.pk}
    response = _contract_post(client, staff[Role.LOCATION_MANAGER], contract, data)
    return response, [f"id_action_{breach.pk}_kind", f"id_action_{breach.pk}_description"]


def contract_breach_escalate(client, staff, location):
    contract = ContractFactory(location=location)
    breach = _breach(contract, staff)
    data = {"form": "escalate", "breach": breach.pk}
    response = _contract_post(client, staff[Role.SECRETARIAT], contract, data)
    return response, [f"id_escalate_{breach.pk}_escalation_step", f"id_escalate_{breach.pk}_note"]


def contract_action_complete(client, staff, location):
    contract = ContractFactory(location=location)
    action = breach_action_record(
        breach=_breach(contract, staff),
        by=staff[Role.SECRETARIAT],
        kind=BreachActionKind.WRITTEN_WARNING,
        description="Brief",
        deadline=timezone.localdate() + datetime.timedelta(days=14),
    )
    data = {"form": "complete-action", "action": action.pk}
    response = _contract_post(client, staff[Role.SECRETARIAT], contract, data)
    return response, [f"id_complete-action_{action.pk}_completed_on"]


FORM_PAGES = [
    login,
    password_reset,
    password_reset_confirm,
    password_change,
    two_factor_setup,
    two_factor_verify,
    request_create,
    request_forward,
    request_council_decision,
    request_record_outcome,
    request_withdraw,
    complete_contracting,
    requester_withdraws,
    location_create,
    checklist_submitted_empty,
    claim_import,
    investigation_location,
    investigation_notification,
    invoice_generate,
    invoice_credit,
    contract_document,
    contract_terminate,
    contract_breach,
    contract_breach_action,
    contract_breach_escalate,
    contract_action_complete,
]


# --- What every one of them must show --------------------------------------------------------


def is_field(node: Node) -> bool:
    if node.tag in ("select", "textarea"):
        return True
    return node.tag == "input" and node.get("type") not in ("hidden", "submit", "button")


def label_of(page: Node, field: Node) -> Node:
    """The label that names the field, or the legend of its radio or checkbox group."""
    if field.get("type") in ("radio", "checkbox"):
        fieldset = field.ancestor("fieldset")
        legend = fieldset.find("legend") if fieldset else None
        if legend is not None and "form-label" in legend.classes():
            return legend
    label = page.find("label", for_=field.get("id"))
    assert label is not None, f"no label for {field.get('id')}"
    return label


def described_by(field: Node) -> list[str]:
    """The ids that describe the field: on the input, or on the fieldset of its group."""
    if field.get("type") in ("radio", "checkbox") and field.ancestor("fieldset") is not None:
        fieldset = field.ancestor("fieldset")
        if fieldset.has("aria-describedby"):
            return fieldset.get("aria-describedby").split()
    return field.get("aria-describedby").split()


def the_summary(page: Node) -> Node:
    summaries = page.find_all(data_error_summary=None)
    assert len(summaries) == 1, "one error summary, on the form that was sent"
    return summaries[0]


@pytest.mark.parametrize("form_page", FORM_PAGES, ids=[case.__name__ for case in FORM_PAGES])
def test_a_form_sent_back_with_errors_follows_the_nl_design_system(
    client, staff, location, form_page
):
    response, invalid_ids = form_page(client, staff, location)

    assert response.status_code == 200
    html = response.content.decode()
    page = parse(html)
    summary = the_summary(page)
    form = summary.ancestor("form")

    # The summary: at the top of its form, focusable, with a heading that labels it, and the
    # script that gives it the focus.
    assert form is not None and form.has("novalidate")
    fields_before = []
    for node in form.iter():
        if node is summary:
            break
        if is_field(node):
            fields_before.append(node.get("name"))
    assert fields_before == []
    assert summary.get("tabindex") == "-1"
    heading = summary.find("h2")
    assert heading.text == SUMMARY_TITLE
    assert summary.get("aria-labelledby") == heading.get("id")
    assert page.find("script", src="/static/js/error-summary.js") is not None

    # One link per error, to the field's id, naming the field by its label.
    links = {link.get("href"): link.text for link in summary.find_all("a")}
    for field_id in invalid_ids:
        assert f"#{field_id}" in links, f"{field_id} not in the summary: {list(links)}"
    for href, text in links.items():
        field = page.by_id(href[1:])
        assert field is not None and field.ancestor("form") is form, href
        label = label_of(page, field).text.replace(OPTIONAL, "").strip()
        assert text.startswith(f"{label}: "), (text, label)
        # The error again at the field, linked to its input, which is marked invalid.
        assert field.get("aria-invalid") == "true", href
        error_ids = [i for i in described_by(field) if i.endswith("_error")]
        assert len(error_ids) == 1, href
        error = page.by_id(error_ids[0])
        assert error is not None and error.text and error.text in text, href

    # No invalid field left out of the summary (a group counts once).
    invalid_names = {node.get("name") for node in form.iter() if node.get("aria-invalid")}
    linked_names = {page.by_id(href[1:]).get("name") for href in links}
    assert invalid_names == linked_names

    # Optional fields are marked in their label; required ones, and an asterisk, are not.
    assert "asteriskField" not in html and "*</span>" not in html
    if form_page is not checklist_submitted_empty:  # its own rule: see the checklist test
        for field in filter(is_field, form.iter()):
            if field.get("type") in ("radio", "checkbox") and label_of(page, field).tag == "label":
                continue  # a single checkbox: ticking it or not is the answer
            label = label_of(page, field)
            # crispy's class for a required field (a select without an empty choice has no
            # ``required`` attribute: it cannot be left empty).
            required = "requiredField" in label.classes()
            assert required == field.has("required") or field.tag == "select"
            assert (OPTIONAL in label.text) == (not required), field.get("name")

    # No browser validation bubbles on any form of the page that takes input.
    for other in page.find_all("form"):
        if any(is_field(node) for node in other.iter()):
            assert other.has("novalidate"), other.attrs


def test_the_login_pages_non_field_error_is_listed_without_a_link(client, staff):
    user = staff[Role.SECRETARIAT]

    response = client.post(reverse("login"), {"username": user.username, "password": "fout"})

    summary = the_summary(parse(response.content.decode()))
    assert summary.find_all("a") == []
    assert "gebruikersnaam" in summary.find("li").text.lower()


def test_a_form_that_was_not_sent_shows_no_summary_and_marks_optional_fields(client, staff):
    client.force_login(staff[Role.SECRETARIAT])

    page = parse(client.get(reverse("procedure:request_create")).content.decode())

    assert page.find_all(data_error_summary=None) == []
    assert OPTIONAL in page.find("label", for_="id_requester_phone").text
    assert OPTIONAL in page.find("label", for_="id_notes").text
    name = page.find("label", for_="id_requester_name")
    assert OPTIONAL not in name.text and "*" not in name.text
    # Required stays known to assistive technology; only the bubbles are off (novalidate).
    assert page.by_id("id_requester_name").has("required")


def test_filters_are_not_marked_optional(client, staff):
    client.force_login(staff[Role.SECRETARIAT])

    html = client.get(reverse("procedure:request_list")).content.decode()

    assert OPTIONAL not in html


def test_the_checklist_marks_only_the_remarks_optional(client, staff, location):
    """A draft may leave every field empty, so none is ``required``; but submitting needs each
    answer (and the explanation of a negative one): only the remark is optional."""
    manager = staff[Role.LOCATION_MANAGER]
    request = AdmissionRequestFactory(
        in_pre_assessment=True, location=location, assigned_location_manager=manager
    )
    pre_assessment_start(admission_request=request, by=manager)
    client.force_login(manager)

    page = parse(client.get(reverse("procedure:checklist", args=[request.pk])).content.decode())

    form = page.by_id("checklist-form")
    marked = {}
    for field in filter(is_field, form.iter()):
        if field.get("type") == "checkbox":
            continue
        part = re.sub(r"^item_\d+_", "", field.get("name"))
        marked.setdefault(part, set()).add(OPTIONAL in label_of(page, field).text)
    assert marked.pop("remark") == {True}
    assert marked.pop("explanation") == {False}
    assert marked.pop("value") == {False}
    assert set(marked) <= {"from", "to"} and all(value == {False} for value in marked.values())


def test_every_app_template_with_a_form_turns_off_the_browser_bubbles():
    """A new template whose form renders fields must say novalidate too (the crispy helper's
    forms get it from templates/bootstrap5/whole_uni_form.html)."""
    templates = [
        path
        for path in ROOT.glob("**/templates/**/*.html")
        if ".venv" not in path.parts and "admin" not in path.relative_to(ROOT).parts[:2]
    ]
    assert len(templates) > 20
    missing = []
    for path in templates:
        source = path.read_text()
        for match in re.finditer(r"<form\b[^>]*>(.*?)</form>", source, re.DOTALL):
            renders_fields = re.search(r"crispy|<input(?![^>]*hidden)|<select|<textarea", match[1])
            if renders_fields and "novalidate" not in match[0].split(">")[0]:
                missing.append(f"{path.relative_to(ROOT)}: {match[0][:60]}")
    assert missing == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_summary_of_an_empty_form_takes_the_focus_and_its_links_focus_the_field(
    page, log_in, staff
):
    log_in(staff[Role.SECRETARIAT])
    page.goto(reverse("organisations:location_create"))

    page.get_by_role("button", name="Locatie registreren").click()
    page.locator("[data-error-summary]").wait_for()
    # An assertion that polls without evaluating a string in the page (the policy forbids eval).
    expect(page.locator("[data-error-summary]")).to_be_focused()
    focused = page.evaluate("document.activeElement.querySelector('h2').textContent")
    page.locator("[data-error-summary] a", has_text="Straat").click()

    assert focused == SUMMARY_TITLE
    assert page.evaluate("document.activeElement.id") == "id_street"
