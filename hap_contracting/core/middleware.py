"""The pages' middleware, passed by the machine-to-machine API (``/api/``).

The API answers a bearer token with JSON: no cookie, no session, no login, no form, no page in a
frame, Dutch whatever the client's language. The middleware below does nothing useful for it
but costs time at every lookup during a call (the security policy header alone is built twice
per response). Each is the original with one change: a request under ``API_PREFIX`` goes past
it (the policy header: a fixed one that allows nothing). Subclasses, so that the checks that
look for them (the admin's) still find them. An API request still passes the security
middleware (HTTPS, HSTS, nosniff), the common middleware (the allowed hosts), CSRF and
X-Frame-Options (cheap, and the deploy checks ask for them by name), the access log's source
and the login lockout.
"""

from csp.middleware import CSPMiddleware
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.locale import LocaleMiddleware
from django_otp.middleware import OTPMiddleware

API_PREFIX = "/api/"


def is_api_request(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


class PagesOnly:
    """Put before a middleware class: an API request skips it."""

    def __call__(self, request):
        if is_api_request(request):
            return self.get_response(request)
        return super().__call__(request)


# An API answer is JSON: a browser that shows one may load nothing and frame it nowhere.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"


class PagesCSPMiddleware(CSPMiddleware):
    """The pages' policy, built for each response; an API answer gets a fixed one instead."""

    def __call__(self, request):
        if is_api_request(request):
            response = self.get_response(request)
            response.headers.setdefault("Content-Security-Policy", API_CONTENT_SECURITY_POLICY)
            return response
        return super().__call__(request)


class PagesSessionMiddleware(PagesOnly, SessionMiddleware):
    pass


class PagesLocaleMiddleware(PagesOnly, LocaleMiddleware):
    pass


class PagesAuthenticationMiddleware(PagesOnly, AuthenticationMiddleware):
    pass


class PagesOTPMiddleware(PagesOnly, OTPMiddleware):
    pass


class PagesMessageMiddleware(PagesOnly, MessageMiddleware):
    pass
