"""The source of an access (NEN 7513): the client's address and browser, for every access-log
entry written while a request is handled, whichever service writes it."""

from contextvars import ContextVar
from dataclasses import dataclass

from axes.helpers import get_client_ip_address


@dataclass(frozen=True)
class AccessSource:
    address: str | None = None
    user_agent: str = ""


NO_SOURCE = AccessSource()
current_source: ContextVar[AccessSource] = ContextVar("access_source", default=NO_SOURCE)


class AccessSourceMiddleware:
    """The address as the login lockout reads it (behind the proxy: X-Forwarded-For)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_source.set(
            AccessSource(
                address=get_client_ip_address(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            )
        )
        try:
            return self.get_response(request)
        finally:
            current_source.reset(token)
