"""Tests: SQLite unless DATABASE_URL names PostgreSQL (as .ci/run does); Celery eager."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-test-key")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LANGUAGE_CODE = "nl"

# Most tests log in with `force_login` and are about the procedure, not about the second factor;
# tests/test_two_factor.py switches it on (the `two_factor_on` fixture) and tests it there.
OTP_REQUIRED = False

# One process (the tests, the development server): its in-process cache is the shared cache
# the rate limits need; production uses Redis.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
