"""Free text keeps to its limit in the form, the model, the service and the database."""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hap_contracting.core.errors import DomainError
from hap_contracting.core.text import LimitedTextField, TextLimit, checked_text
from hap_contracting.procedure.forms import AdviceForm
from hap_contracting.procedure.models import AdmissionRequest
from tests.procedure.factories import AdmissionRequestFactory


def test_text_within_its_limit_is_kept_stripped():
    assert checked_text("  Gemotiveerd.  ", field="motivation", limit=20) == "Gemotiveerd."
    assert checked_text("x" * 20, field="motivation", limit=20) == "x" * 20


def test_text_over_its_limit_is_refused_at_its_field_with_limit_and_length():
    with pytest.raises(DomainError) as error:
        checked_text("x" * 4_001, field="motivation", limit=TextLimit.MOTIVATION)

    assert error.value.field == "motivation"
    assert error.value.message == "Gebruik hooguit 4.000 tekens; deze tekst heeft er 4.001."


def test_required_text_that_is_only_spaces_is_refused_with_the_fields_own_message():
    with pytest.raises(DomainError) as error:
        checked_text("   ", field="reason", limit=10, required_message="Geef de reden.")

    assert (error.value.field, error.value.message) == ("reason", "Geef de reden.")


def test_every_limited_text_field_has_its_database_check():
    """A limit added to a field without its ``length_checks`` entry holds in forms only."""
    missing = []
    for model in apps.get_models():
        checks = {constraint.name for constraint in model._meta.constraints}
        for field in model._meta.get_fields():
            if isinstance(field, LimitedTextField):
                name = f"{model._meta.app_label}_{model._meta.model_name}_{field.name}_length"
                if name not in checks:
                    missing.append(name)
    assert missing == []


@pytest.mark.django_db
def test_model_validation_refuses_text_over_its_limit():
    admission_request = AdmissionRequestFactory()
    admission_request.notes = "x" * (TextLimit.NOTES + 1)

    with pytest.raises(ValidationError) as error:
        admission_request.full_clean(exclude=["state"])

    assert "notes" in error.value.error_dict


@pytest.mark.django_db
def test_the_database_refuses_text_over_its_limit_even_past_the_model():
    admission_request = AdmissionRequestFactory(notes="Bij intake.")

    with pytest.raises(IntegrityError), transaction.atomic():
        AdmissionRequest.objects.filter(pk=admission_request.pk).update(
            notes="x" * (TextLimit.NOTES + 1)
        )

    admission_request.refresh_from_db()
    assert admission_request.notes == "Bij intake."


def test_the_form_gives_the_browser_the_limit_and_refuses_more():
    form = AdviceForm(
        data={"outcome": "positive", "motivation": "x" * 4_001, "decided_on": "01-12-2026"},
        outcomes=[("positive", "Positief")],
    )

    assert f'maxlength="{TextLimit.MOTIVATION}"' in str(form["motivation"])
    assert not form.is_valid()
    assert "motivation" in form.errors
