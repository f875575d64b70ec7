from axes.helpers import get_client_ip_address

from .sources import AccessSource, current_source


class AccessSourceMiddleware:
    """Every access-log entry written while a request is handled, whichever service writes it,
    names the request's source: the address as the login lockout reads it (behind the proxy:
    X-Forwarded-For) and the browser."""

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
