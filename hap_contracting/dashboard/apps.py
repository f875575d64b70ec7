from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """Read-only pages over the other apps: "Mijn werk" and the regional dashboard."""

    name = "hap_contracting.dashboard"
    label = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self) -> None:
        from hap_contracting.billing.models import (
            AddressInvestigation,
            ClaimImport,
            Invoice,
            InvoiceLine,
            Payment,
        )
        from hap_contracting.contracts.models import Contract
        from hap_contracting.procedure.models import AdmissionRequest, Advice, ClockEvent, StepNorm

        from .selectors import figures_changed, work_changed

        # What "Mijn werk" counts: its count in the menu is fresh after any change of these.
        for model in (AdmissionRequest, Invoice, ClaimImport, AddressInvestigation):
            post_save.connect(work_changed, sender=model, dispatch_uid=f"work:{model.__name__}")
            post_delete.connect(work_changed, sender=model, dispatch_uid=f"work-d:{model.__name__}")
        # What the dashboard's figures count: they are drawn again after a change of these (a
        # step of the procedure saves its request, so its history row needs no signal of its own).
        for model in (
            AdmissionRequest,
            Advice,
            ClockEvent,
            StepNorm,
            Contract,
            Invoice,
            InvoiceLine,
            Payment,
        ):
            name = model.__name__
            post_save.connect(figures_changed, sender=model, dispatch_uid=f"figures:{name}")
            post_delete.connect(figures_changed, sender=model, dispatch_uid=f"figures-d:{name}")
