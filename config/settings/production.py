"""Production: PostgreSQL, Redis, HTTPS. Every secret comes from the environment.

`manage.py check --deploy --fail-level WARNING` passes with these settings (CI runs it).
"""

from .base import *  # noqa: F403
from .base import STORAGES, env

# Every web process counts the same rate limits. django-ratelimit (4.1) names django-redis as
# its supported Redis backend; Django's own RedisCache, used here, has the atomic increment it
# needs all the same.
CACHES = {"default": env.dj_cache_url("DJANGO_CACHE_URL", default="redis://127.0.0.1:6379/1")}
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
# Sessions are read from Redis on every request and written through to PostgreSQL (at the login,
# and at most once a minute after: accounts.middleware), so a restart of Redis logs nobody out
# and a busy database (the daily job, a claims import) does not hold up reading them
# (docs/decisions.md, "Web server for 2 cores").
SESSION_ENGINE = env.str(
    "DJANGO_SESSION_ENGINE", default="django.contrib.sessions.backends.cached_db"
)
# TLS ends at one reverse proxy, which sets X-Forwarded-For: the client is the last address.
AXES_IPWARE_PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=1)
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# The container's and the load balancer's health checks speak plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Required apart from the secret key: rotating one must not change the other's meaning.
BSN_HASH_KEY = env.str("BSN_HASH_KEY")
