"""Form building blocks: forms collect input, the services decide, and a DomainError lands on
the field it names."""

from dataclasses import dataclass, replace

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from .errors import DomainError
from .months import parse_month


def add_domain_error(form: forms.BaseForm, error: DomainError) -> None:
    """Put a service's refusal on the fields it names, or on the form as a whole."""
    if error.errors and all(name in form.fields for name in error.errors):
        for name, message in error.errors.items():
            form.add_error(name, message)
        return
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


# The confirmation page's two buttons (``templates/_confirmation.html``): only a POST that
# carries CONFIRM_FIELD takes an irreversible step; BACK_FIELD shows the form again, filled in.
CONFIRM_FIELD = "confirmed"
BACK_FIELD = "back"
# What the confirmation page does not post again.
_NOT_RESUBMITTED = frozenset({"csrfmiddlewaretoken", CONFIRM_FIELD, BACK_FIELD})


@dataclass(frozen=True)
class Confirmation:
    """What a user confirms before an irreversible step: the choice in a few lines (``summary``:
    label and value) and what follows from it (``consequence``), with the way back."""

    title: str
    consequence: str
    summary: tuple[tuple[str, str], ...] = ()
    confirm_label: str = _("Confirm")
    # The posted input, sent again by both buttons (set by ``confirmation_needed``).
    resubmit: tuple[tuple[str, str], ...] = ()


def going_back(data) -> bool:
    """The user chose "Back" on a confirmation page: show the form again with their input."""
    return data is not None and BACK_FIELD in data


def confirmation_needed(form: forms.BaseForm, data) -> Confirmation | None:
    """Call once ``form`` is valid: the confirmation still to ask for, or None when the service
    may be called now (the choice is reversible, or this POST confirms it).

    One mechanism for the app's pages and the admin's action views: a form says which of its
    choices needs confirming (``confirmation()``); the first POST shows the confirmation page,
    only the POST with the confirmation field performs the step.
    """
    if data is None or CONFIRM_FIELD in data:
        return None
    confirmation = form.confirmation() if hasattr(form, "confirmation") else None
    if confirmation is None:
        return None
    resubmit = tuple(
        (name, value)
        for name, values in data.lists()
        if name not in _NOT_RESUBMITTED
        for value in values
    )
    return replace(confirmation, resubmit=resubmit)


class ServiceForm(forms.Form):
    """A crispy form whose input a service takes; ``add_domain_error`` shows its refusal."""

    submit_label = _("Save")

    def confirmation(self) -> Confirmation | None:
        """For an irreversible choice (once valid): what to confirm first; None: no confirming
        needed (see ``confirmation_needed``)."""
        return None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))

    def add_domain_error(self, error: DomainError) -> None:
        add_domain_error(self, error)

    def service_arguments(self) -> dict:
        """The keyword arguments the service takes; by default the cleaned data."""
        return dict(self.cleaned_data)


class SavedByServiceForm(forms.ModelForm):
    """An admin form that saves through a service while it validates, so the service's checks
    (under its locks) show their message on the field they name. The admin's change view runs in
    one transaction, so nothing is kept when a later step fails; the ModelAdmin's
    ``save_model`` then has nothing left to do (``SavedByServiceAdminMixin``)."""

    def save_through_service(self, cleaned: dict):
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            saved = self.save_through_service(cleaned)
        except DomainError as error:
            add_domain_error(self, error)
        else:
            self.instance = saved
        return cleaned

    def _post_clean(self):
        """The service validated the whole object (``full_clean``) before it saved it; the
        ModelForm's own pass would validate the values as typed, after the save."""


class SavedByServiceAdminMixin:
    """For a ModelAdmin whose form is a ``SavedByServiceForm``."""

    def save_model(self, request, obj, form, change):
        """Nothing left to do: the service saved the object in ``form.clean``."""

    def save_related(self, request, form, formsets, change):
        """The service saved the many-to-many fields with the object."""


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class MonthField(forms.CharField):
    """A month as ``YYYY-MM`` (an ``<input type="month">``), cleaned to its first day."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "jjjj-mm"})
    default_error_messages = {"invalid": _("Enter a month as YYYY-MM.")}

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return parse_month(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
