"""For the views that show patient-linked data: an attempt that is refused (403) or finds
nothing (404) is in the access log too (NEN 7513), with what was asked for."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .constants import AccessOutcome
from .services import access_log_record_attempt


def logs_refused_reads(what: str):
    """``what`` names what was asked for; ``{pk}`` and the view's other arguments fill it in."""

    def decorate(view):
        @wraps(view)
        def logged(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except PermissionDenied:
                _log(request, what.format(**kwargs), AccessOutcome.REFUSED)
                raise
            except Http404:
                _log(request, what.format(**kwargs), AccessOutcome.NOT_FOUND)
                raise

        return logged

    return decorate


def _log(request, what: str, outcome: str) -> None:
    access_log_record_attempt(user=request.user, what=what, outcome=outcome)
