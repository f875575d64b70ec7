"""``as_crispy_field_once``: crispy-forms' ``as_crispy_field``, rendered once per state of a field
and then reused. The lists' filter forms render the same few fields on every request, and
crispy renders each through its templates (and Django a template per option of a select): that
was a large part of a list page's time. A field's HTML depends on the field, its value, its
errors, its choices and the language only, which make the key; a field whose choices come from
the database (``ModelChoiceField``) is rendered each time."""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms, template
from django.utils import translation

register = template.Library()

_RENDERED: dict[tuple, str] = {}
MAX_RENDERED = 2000


def _plain(choices) -> tuple:
    """Choices as strings (their labels may be lazy translations), groups included."""
    return tuple(
        (str(value), _plain(label) if isinstance(label, list | tuple) else str(label))
        for value, label in choices
    )


def field_state(bound_field: forms.BoundField) -> tuple | None:
    """Everything the rendered HTML of ``bound_field`` depends on, or None when that includes
    something outside the form (the choices of a ``ModelChoiceField``)."""
    field, form = bound_field.field, bound_field.form
    if isinstance(field, forms.ModelChoiceField):
        return None
    choices = getattr(field, "choices", None)
    return (
        type(form).__module__,
        type(form).__qualname__,
        bound_field.name,
        form.prefix,
        form.auto_id,
        form.is_bound,
        getattr(form, "marks_optional_fields", None),
        repr(bound_field.value()),
        tuple(str(error) for error in bound_field.errors),
        translation.get_language(),
        _plain(choices) if choices is not None else None,
        str(field.label),
        str(field.help_text),
        field.required,
        field.disabled,
        type(field.widget).__qualname__,
        repr(sorted(field.widget.attrs.items())),
    )


@register.filter
def as_crispy_field_once(bound_field: forms.BoundField) -> str:
    state = field_state(bound_field)
    if state is None:
        return as_crispy_field(bound_field)
    html = _RENDERED.get(state)
    if html is None:
        if len(_RENDERED) >= MAX_RENDERED:
            _RENDERED.clear()
        html = _RENDERED[state] = as_crispy_field(bound_field)
    return html
