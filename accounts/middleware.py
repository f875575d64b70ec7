from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

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
