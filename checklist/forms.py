"""The checklist as one form: per item a value (by kind), an explanation and a remark."""

from django import forms
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.text import TextLimit

from .constants import ItemKind
from .selectors import AssessmentView, ItemRow

YES_NO_CHOICES = [("yes", _("Yes")), ("no", _("No"))]


def _name(item, part: str) -> str:
    return f"item_{item.pk}_{part}"


class AssessmentForm(forms.Form):
    """Fields are built from the assessment's own template version; items that don't apply to
    this location (special target groups) are left out."""

    def __init__(self, *args, view: AssessmentView, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = [row for row in view.rows if row.applicable]
        for row in self.rows:
            self._add_fields(row)

    def _add_fields(self, row: ItemRow) -> None:
        item, answer = row.item, row.answer
        value = answer.value if answer else None
        label = item.question
        if item.kind == ItemKind.YES_NO:
            field = forms.ChoiceField(
                label=label, choices=YES_NO_CHOICES, widget=forms.RadioSelect, required=False
            )
        elif item.kind == ItemKind.CHOICE:
            field = forms.ChoiceField(
                label=label,
                choices=[(c, c) for c in item.choices],
                widget=forms.RadioSelect,
                required=False,
            )
        elif item.kind == ItemKind.PHONE:
            field = forms.CharField(
                label=label,
                max_length=30,
                required=False,
                widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            )
        elif item.kind == ItemKind.HOURS:
            hours = value if isinstance(value, dict) else {}
            self.fields[_name(item, "from")] = forms.CharField(
                label=_("Reachable from"),
                required=False,
                initial=hours.get("from"),
                widget=forms.TimeInput(attrs={"type": "time"}),
            )
            self.fields[_name(item, "to")] = forms.CharField(
                label=_("until"),
                required=False,
                initial=hours.get("to"),
                widget=forms.TimeInput(attrs={"type": "time"}),
            )
            self.fields[_name(item, "weekends")] = forms.BooleanField(
                label=_("The whole weekend"),
                required=False,
                initial=hours.get("weekends"),
            )
            field = None
        else:
            field = forms.CharField(label=label, max_length=TextLimit.ANSWER, required=False)
        if field is not None:
            field.help_text = item.help_text
            field.initial = value
            self.fields[_name(item, "value")] = field
        self.fields[_name(item, "explanation")] = forms.CharField(
            label=_("Explanation"),
            required=False,
            initial=answer.explanation if answer else "",
            max_length=TextLimit.DESCRIPTION,
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        self.fields[_name(item, "remark")] = forms.CharField(
            label=_("Remark"),
            required=False,
            initial=answer.remark if answer else "",
            max_length=TextLimit.REMARK,
            widget=forms.Textarea(attrs={"rows": 1}),
        )
        if row.needs_confirmation:
            self.fields[_name(item, "confirmed")] = forms.BooleanField(
                label=_("Still correct (copied from the previous assessment)"), required=False
            )
        # A draft may leave anything empty, so no field is required; submitting needs the answer
        # (and, for a negative one, the explanation): their labels are not marked "(optional)".
        for part in ("value", "from", "to", "explanation"):
            if _name(item, part) in self.fields:
                self.fields[_name(item, part)].needed_to_submit = True

    def fields_of(self, row: ItemRow) -> dict:
        """The bound fields of one item, by part, for the template."""
        prefix = f"item_{row.item.pk}_"
        return {name[len(prefix) :]: self[name] for name in self.fields if name.startswith(prefix)}

    def answers(self) -> dict[int, dict]:
        data = self.cleaned_data
        answers = {}
        for row in self.rows:
            item = row.item
            if item.kind == ItemKind.HOURS:
                value = {
                    "from": data.get(_name(item, "from")) or "",
                    "to": data.get(_name(item, "to")) or "",
                    "weekends": bool(data.get(_name(item, "weekends"))),
                }
                if not value["from"] and not value["to"]:
                    value = None
            else:
                value = data.get(_name(item, "value")) or None
            answers[item.pk] = {
                "value": value,
                "explanation": data.get(_name(item, "explanation"), ""),
                "remark": data.get(_name(item, "remark"), ""),
                "confirmed": data.get(_name(item, "confirmed"), False),
            }
        return answers

    def add_item_errors(self, errors: dict) -> None:
        """Show the service's errors at their fields: a key is an item's id (its answer) or
        ``(item id, part)`` for its explanation or remark."""
        by_pk = {row.item.pk: row.item for row in self.rows}
        for key, message in errors.items():
            item_pk, part = key if isinstance(key, tuple) else (key, None)
            item = by_pk.get(item_pk)
            if item is None:
                self.add_error(None, message)
                continue
            part = part or ("from" if item.kind == ItemKind.HOURS else "value")
            self.add_error(_name(item, part), message)
