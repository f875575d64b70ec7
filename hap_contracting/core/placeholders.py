"""A restricted substitution for texts that administrators maintain (letter templates).

Only ``{{ name }}`` with a name from a fixed set is replaced, by a plain string computed
beforehand. There are no attributes, filters, tags or method calls, and the values are never
read again as a template: an administrator cannot reach any object through a placeholder, and a
motivation that contains ``{{ regio }}`` is printed as typed.
"""

import re

from django.utils.translation import gettext as _

from .errors import DomainError

# Anything between double braces: what it holds is checked against the allowed names.
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
NAME = re.compile(r"[a-z_]+")


def placeholder_names(text: str) -> list[str]:
    """The names used in ``text``, as typed between the braces (stripped), in order."""
    return [match.group(1).strip() for match in PLACEHOLDER.finditer(text or "")]


def check_placeholders(text: str, allowed, *, field: str) -> None:
    """Refuse ``text`` when it uses a placeholder outside ``allowed`` or holds a brace pair that
    is not a placeholder; the Dutch message names the first offender and the allowed set."""
    allowed_list = ", ".join(f"{{{{ {name} }}}}" for name in sorted(allowed))
    for name in placeholder_names(text):
        if not NAME.fullmatch(name) or name not in allowed:
            raise DomainError(
                _("Unknown placeholder {{ %(name)s }}. Allowed are: %(allowed)s.")
                % {"name": name, "allowed": allowed_list},
                field=field,
            )
    rest = PLACEHOLDER.sub("", text or "")
    if "{{" in rest or "}}" in rest:
        raise DomainError(
            _("A placeholder is not closed: write it as {{ name }}. Allowed are: %(allowed)s.")
            % {"allowed": allowed_list},
            field=field,
        )


def substitute(text: str, values: dict[str, str]) -> str:
    """``text`` with each placeholder replaced by its value, in one pass (a value is not read
    again); a name without a value is left as it stands, so nothing is guessed."""

    def value_of(match: re.Match) -> str:
        name = match.group(1).strip()
        return str(values[name]) if name in values else match.group(0)

    return PLACEHOLDER.sub(value_of, text or "")
