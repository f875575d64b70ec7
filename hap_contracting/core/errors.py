from django.core.exceptions import ValidationError


class DomainError(Exception):
    """A rule refused an action. ``message`` is for the user, in their language.

    ``field`` names the form field the message belongs to, when there is one; ``errors`` maps
    several fields to their messages (e.g. every incomplete checklist item).
    """

    def __init__(self, message, *, field: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or {}

    def __str__(self) -> str:
        return str(self.message)


def domain_error_from(error: ValidationError) -> DomainError:
    """The DomainError for a model's ValidationError: the first bad field and its messages."""
    if hasattr(error, "error_dict"):
        field, errors = next(iter(error.error_dict.items()))
        messages = [message for item in errors for message in item.messages]
        return DomainError(" ".join(messages), field=None if field == "__all__" else field)
    return DomainError(" ".join(error.messages))


def full_clean_or_raise(instance, **kwargs) -> None:
    """``instance.full_clean(**kwargs)``, with a refusal raised as a DomainError."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as error:
        raise domain_error_from(error) from error
