from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.roles import ALL_REGION_ROLES, Role


class User(AbstractUser):
    """A member of staff. Roles are auth groups named after ``Role``; the region scopes all data.

    Users are deactivated, never deleted: the transition history refers to them and can't change.
    """

    region = models.ForeignKey(
        "organisations.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("region"),
        help_text=_(
            "Every user belongs to one region; only finance and administrators may "
            "leave it empty to see all regions."
        ),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @cached_property
    def role_names(self) -> frozenset[str]:
        if not self.is_active or self.pk is None:
            return frozenset()
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    @property
    def sees_all_regions(self) -> bool:
        """Finance, administrators and superusers without a region see every region."""
        return self.region_id is None and (
            bool(self.role_names & ALL_REGION_ROLES) or (self.is_active and self.is_superuser)
        )

    def roles_display(self) -> str:
        return ", ".join(str(Role(name).label) for name in sorted(self.role_names) if name in Role)

    def clean(self) -> None:
        super().clean()
        if self.pk and self.region_id is None and not self.role_names & ALL_REGION_ROLES:
            raise ValidationError(
                {"region": _("Choose a region: only finance and administrators may see all.")}
            )


class UserChange(models.Model):
    """A change of what a user may do: roles, staff or superuser status, active, two-factor
    device. Append-only and hash-chained in the database (``core.chain``); administrators read
    it in the admin."""

    class Field(models.TextChoices):
        ROLES = "roles", _("roles")
        STAFF = "is_staff", _("staff status")
        SUPERUSER = "is_superuser", _("superuser status")
        ACTIVE = "is_active", _("active")
        DEVICE = "two_factor_device", _("two-factor device")

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="changes", verbose_name=_("user")
    )
    by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty: a command on the server, not a page."),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    field = models.CharField(_("what"), max_length=20, choices=Field.choices)
    before = models.CharField(_("before"), max_length=500, blank=True)
    after = models.CharField(_("after"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("change of a user's rights")
        verbose_name_plural = _("changes of users' rights")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.field}"
