"""The local demo: SQLite, Celery eager (no broker needed), e-mail on the console.

Two-factor authentication is off here so the demo logins work with their password alone
(docs/decisions.md); set DJANGO_OTP_REQUIRED=true to try it.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-local-demo-key-not-for-production")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("DJANGO_OTP_REQUIRED", "false")

from .base import *  # noqa: E402,F403
from .base import DATABASES  # noqa: E402

# The development server starts a thread per request: persistent connections would keep one
# open per thread (a crawl of six threads used up PostgreSQL's 100 connections).
DATABASES["default"]["CONN_MAX_AGE"] = 0

# One process (the tests, the development server): its in-process cache is the shared cache
# the rate limits need; production uses Redis.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
