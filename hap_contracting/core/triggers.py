"""Database triggers shared by the apps' models (PostgreSQL, through django-pgtrigger)."""

import pgtrigger


def append_only(name: str) -> pgtrigger.Protect:
    """The table refuses UPDATE and DELETE: history and logs are only ever added to."""
    return pgtrigger.Protect(name=name, operation=pgtrigger.Update | pgtrigger.Delete)
