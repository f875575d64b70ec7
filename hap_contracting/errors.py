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
