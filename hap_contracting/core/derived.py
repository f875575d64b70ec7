"""Tables an app keeps from the rows of apps below it: the triage verdict per address is
computed from contracts (``contracts``) and care locations (``organisations``), which cannot
import ``triage``. A service that changes such rows names the derived table it affects, as
services name the tasks they start (``core.jobs``); the app that keeps the table registers its
refresh when Django starts (``AppConfig.ready``).

The refresh runs at once, inside the caller's transaction, so the derived rows commit together
with the change or not at all: no moment in which a reader sees the one without the other.
"""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

_refreshes: dict[str, Callable[..., object]] = {}


def register_refresh(name: str, refresh: Callable[..., object]) -> None:
    _refreshes[name] = refresh


def refresh_derived(name: str, **kwargs) -> None:
    try:
        refresh = _refreshes[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"No app registered the refresh of the derived table {name!r}."
        ) from None
    refresh(**kwargs)
