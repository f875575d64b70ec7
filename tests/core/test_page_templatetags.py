"""The tags and the mixin that draw the lists' repeated parts faster draw the same HTML as the
templates and Django did before them."""

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django.db.models.base import Model
from django.template import Context, Template
from django.utils import translation

from hap_contracting.billing.models import Invoice
from hap_contracting.contracts.models import Contract
from hap_contracting.core.listing import SortHeader
from hap_contracting.core.templatetags.crispy_once import as_crispy_field_once
from hap_contracting.procedure.forms import RequestFilterForm
from hap_contracting.procedure.models import AdmissionRequest, Advice


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_a_sortable_header_is_drawn_as_the_template_drew_it():
    sorted_by = SortHeader(url="?sort=-end", aria_sort="ascending", arrow="▲")
    other = SortHeader(url="?sort=start&q=a%26b", aria_sort="", arrow="↕")

    assert render(
        '{% load listing %}{% sort_th h "End" %}{% sort_th o label class="text-end" %}',
        label="Start",
        h=sorted_by,
        o=other,
    ) == (
        '<th scope="col" aria-sort="ascending"><a href="?sort=-end" class="text-nowrap" '
        'data-sort-link>End<span aria-hidden="true" class="ms-1">▲</span></a></th>\n'
        '<th scope="col" class="text-end"><a href="?sort=start&amp;q=a%26b" class="text-nowrap" '
        'data-sort-link>Start<span aria-hidden="true" class="ms-1">↕</span></a></th>\n'
    )


@pytest.mark.parametrize(
    ("state", "colour"),
    [
        ("received", "text-bg-info"),
        ("contracted", "text-bg-success"),
        ("rejected", "text-bg-secondary"),
        ("withdrawn", "text-bg-secondary"),
    ],
)
def test_a_requests_state_badge(state, colour):
    assert render("{% load procedure %}{% state_badge s label %}", s=state, label="<x>") == (
        f'<span class="badge state-badge {colour}">&lt;x&gt;</span>\n'
    )


@pytest.mark.parametrize(
    ("status", "colour"),
    [
        ("active", "text-bg-success"),
        ("expiring", "text-bg-warning"),
        ("expired", "text-bg-danger"),
        ("terminated", "text-bg-secondary"),
        ("upcoming", "text-bg-info"),
    ],
)
def test_a_contracts_status_badge(status, colour):
    assert render("{% load contracts %}{% contract_status_badge s 'Loopt' %}", s=status) == (
        f'<span class="badge state-badge {colour}" data-status="{status}">Loopt</span>\n'
    )


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (AdmissionRequest, "state"),
        (AdmissionRequest, "kind"),
        (Advice, "step"),
        (Advice, "outcome"),
        (Contract, "kind"),
        (Invoice, "kind"),
        (Invoice, "state"),
    ],
)
@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_choices_label_is_djangos(model, field, language):
    """``ChoiceLabelsMixin`` looks the label up without translating all of them."""
    choice_field = model._meta.get_field(field)
    with translation.override(language):
        for value in [*(value for value, _label in choice_field.flatchoices), "unknown", None]:
            instance = model.__new__(model)
            instance.__dict__[choice_field.attname] = value
            django = Model._get_FIELD_display(instance, choice_field)
            assert getattr(instance, f"get_{field}_display")() == django


@pytest.mark.django_db
def test_a_filter_field_is_drawn_as_crispy_draws_it_for_each_value_and_language(staff):
    user = staff["secretariat"]
    for data, language in ((None, "nl"), ({"state": "received"}, "nl"), (None, "en")):
        with translation.override(language):
            for name in ("state", "kind", "q", "received_from"):
                once = as_crispy_field_once(RequestFilterForm(data, user=user)[name])
                again = as_crispy_field_once(RequestFilterForm(data, user=user)[name])
                crispy = as_crispy_field(RequestFilterForm(data, user=user)[name])
                assert once == again == crispy


@pytest.mark.django_db
def test_a_filter_field_with_an_error_shows_it(staff):
    form = RequestFilterForm({"received_from": "31-02-2026"}, user=staff["secretariat"])
    form.is_valid()

    html = as_crispy_field_once(form["received_from"])

    assert html == as_crispy_field(form["received_from"])
    assert "is-invalid" in html
    assert "is-invalid" not in as_crispy_field_once(
        RequestFilterForm(None, user=staff["secretariat"])["received_from"]
    )
