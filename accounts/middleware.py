import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.translation import gettext as _

from hap_contracting.core.middleware import is_api_request

from .services import two_factor_enrolled, two_factor_required


class TwoFactorRequiredMiddleware:
    """A user who must use a second factor and has not given one in this session reaches only
    the two-factor pages (set up or verify), logout and the language switch; every other page,
    the admin included, redirects there with ``?next=`` back.

    Installed after django-otp's OTPMiddleware, which sets ``request.user.is_verified()``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api_request(request):  # a bearer token, no session (core.middleware)
            return self.get_response(request)
        user = request.user
        if (
            two_factor_required(user)
            and not user.is_verified()
            and not self._allowed_unverified(request.path_info)
        ):
            target = "accounts:two_factor_verify"
            if not two_factor_enrolled(user):
                target = "accounts:two_factor_setup"
            return redirect_to_login(request.get_full_path(), reverse(target))
        return self.get_response(request)

    @staticmethod
    def _allowed_unverified(path: str) -> bool:
        allowed = (
            reverse("accounts:two_factor_setup"),
            reverse("accounts:two_factor_verify"),
            reverse("logout"),
            reverse("set_language"),
            reverse("healthz"),
        )
        static_prefix = "/" + settings.STATIC_URL.lstrip("/")
        return path in allowed or path.startswith(static_prefix)


SESSION_LOGIN_AT = "hap_login_at"
SESSION_LAST_SEEN = "hap_last_seen"
# The last request is written to the session at most this often, not on every request.
LAST_SEEN_RESOLUTION = 60


class SessionTimeoutMiddleware:
    """A session ends after ``SESSION_IDLE_TIMEOUT`` without a request and at the latest
    ``SESSION_ABSOLUTE_TIMEOUT`` after the login; the user logs in again (with the second
    factor). The start page's script asks ``accounts:session_keepalive`` to stay logged in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api_request(request) and request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            login_at = session.setdefault(SESSION_LOGIN_AT, now)  # set at login (signals.py)
            last_seen = session.get(SESSION_LAST_SEEN, now)
            idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            absolute = settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
            if now - last_seen > idle or now - login_at > absolute:
                logout(request)
                messages.info(request, _("You were logged out: log in again to continue."))
                return redirect_to_login(request.get_full_path())
            if now - last_seen >= LAST_SEEN_RESOLUTION or SESSION_LAST_SEEN not in session:
                session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


def start_session_clock(sender, request, user, **kwargs) -> None:
    """On login (``user_logged_in``): the absolute timeout counts from now."""
    now = int(time.time())
    request.session[SESSION_LOGIN_AT] = now
    request.session[SESSION_LAST_SEEN] = now
