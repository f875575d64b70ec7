"""NEN 7513: every read, search, import and export of claim data by a user is logged with who,
their roles, what, which patient references, and when."""

from ..models import AccessLogEntry, User


def access_log_record(
    *, user: User, action: str, what: str, patient_references: list[str] | tuple = ()
) -> AccessLogEntry:
    return AccessLogEntry.objects.create(
        user=user,
        roles=", ".join(sorted(user.role_names)),
        action=action,
        what=what[:200],
        patient_references=", ".join(sorted(set(patient_references))),
    )
