"""Thin Celery tasks: they take primary keys and call the app's code."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import translation

from hap_contracting.organisations.models import Region

from . import figures


@shared_task(name="dashboard.redraw_figures", ignore_result=True)
def redraw_figures(region_id: int | None, user_id: int, language: str) -> None:
    """Draw a dashboard's figures again as the user whose view found them a minute old sees
    them (``figures.dashboard_figures``). Not retried: the next view queues it again."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    region = Region.objects.get(pk=region_id) if region_id is not None else None
    with translation.override(language):
        figures.draw(user, region)
