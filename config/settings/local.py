"""The local demo: SQLite, Celery eager (no broker needed), e-mail on the console."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-local-demo-key-not-for-production")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("DJANGO_DEBUG", "true")

from .base import *  # noqa: E402,F403
