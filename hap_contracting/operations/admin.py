"""Nothing of operations is edited in the admin. The beat schedule is the settings'
(``CELERY_BEAT_SCHEDULE``, written to the database by django-celery-beat's scheduler): editing
its tasks in the admin would fork it from the code, so django-celery-beat's pages are removed."""

from django.contrib import admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

for _model in (PeriodicTask, IntervalSchedule, CrontabSchedule, SolarSchedule, ClockedSchedule):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
