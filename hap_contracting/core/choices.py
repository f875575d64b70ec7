"""``get_FOO_display`` that translates one label, not all of them.

Django's own builds a dict of all the field's choices for every call, hashing each label; a
label is a lazy translation, so hashing it translates it: a list of 50 requests translated every
state and kind label a hundred times, a tenth of the page's time. A model that shows its choices
in lists mixes this in (before ``models.Model``): the label is the same.
"""

from django.utils.encoding import force_str


class ChoiceLabelsMixin:
    def _get_FIELD_display(self, field):  # noqa: N802 (Django's name)
        value = getattr(self, field.attname)
        for choice, label in field.flatchoices:
            if choice == value:
                return force_str(label, strings_only=True)
        return force_str(value, strings_only=True)
