"""Third-party apps as the admin shows them: in Dutch. django-axes and django-otp ship no Dutch;
their section names are set here and their model names translated in the project's catalogue
(the msgids below, so that makemessages keeps them)."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpAppConfig


class LoginAttemptsConfig(AxesAppConfig):
    """django-axes: administrators lift a lockout here (docs/operations.md)."""

    verbose_name = _("Login attempts")


class AuthenticatorAppsConfig(TotpAppConfig):
    """django-otp's TOTP devices: administrators delete a lost phone's device here."""

    verbose_name = _("Two-factor login")

    def ready(self):
        super().ready()
        # The model's name is a plain string upstream ("TOTP device"): named here, at runtime,
        # so no migration of a third-party app is needed (migrations read the Meta as declared).
        meta = self.get_model("TOTPDevice")._meta
        meta.verbose_name = _("authenticator app")
        meta.verbose_name_plural = _("authenticator apps")


AXES_MODEL_NAMES = (
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
)
