"""WSGI application of the triage benchmark: the project's application with ROOT_URLCONF set to
``bench.minimal_urls`` (the project's URLs plus ``/bench/ok.json``).

The environment (DJANGO_SETTINGS_MODULE, DATABASE_URL, DJANGO_DEBUG=false) is set by
``bench/triage_lookup.py`` before it starts gunicorn. ``BENCH_CONN_MAX_AGE`` (seconds, default
0 as in production) lets the benchmark show what persistent database connections would change.
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

settings.ROOT_URLCONF = "bench.minimal_urls"
settings.DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("BENCH_CONN_MAX_AGE", "0"))
if settings.DATABASES["default"]["CONN_MAX_AGE"]:
    settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

application = get_wsgi_application()
