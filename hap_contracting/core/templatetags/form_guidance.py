"""How every form of the app shows what to fill in and what went wrong (NL Design System form
guidelines): the error summary at the top of a form and the "(optional)" marking in the labels.
Used by the crispy template pack's overrides in ``templates/bootstrap5/`` and by the forms that
lay out their own fields (``templates/_error_summary.html``)."""

from dataclasses import dataclass

from django import forms, template

register = template.Library()


@dataclass(frozen=True)
class SummaryError:
    message: str
    label: str = ""
    href: str = ""


def field_anchor(bound_field: forms.BoundField) -> str:
    """The id the summary links to: the field's input, or the first option of a radio or checkbox
    group (whose label points at no single input)."""
    if bound_field.id_for_label:
        return bound_field.id_for_label
    return f"{bound_field.auto_id}_0" if bound_field.auto_id else ""


@register.simple_tag
def error_summary(form: forms.BaseForm) -> list[SummaryError]:
    """Every error of a bound form in the order of the page: the form's own errors first, then
    per field, each naming its field's label and linking to its input."""
    if form is None or not form.is_bound:
        return []
    errors = [SummaryError(message=str(message)) for message in form.non_field_errors()]
    for bound_field in form:
        for message in bound_field.errors:
            if bound_field.is_hidden:
                errors.append(SummaryError(message=str(message)))
                continue
            anchor = field_anchor(bound_field)
            errors.append(
                SummaryError(
                    message=str(message),
                    label=str(bound_field.label or ""),
                    href=f"#{anchor}" if anchor else "",
                )
            )
    return errors


@register.filter
def marked_optional(bound_field: forms.BoundField) -> bool:
    """Whether the label says "(optional)". Most fields must be filled in, so the exception is
    marked; not marked are a single checkbox (leaving it unticked is an answer), fields that a
    later step needs (``field.needed_to_submit``, the checklist's answers), and filter forms
    (``form.marks_optional_fields = False``), where every field is optional by nature."""
    field = bound_field.field
    if field.required or getattr(field, "needed_to_submit", False):
        return False
    if not getattr(bound_field.form, "marks_optional_fields", True):
        return False
    return not isinstance(field.widget, forms.CheckboxInput)
