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
