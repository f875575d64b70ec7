"""WSGI application of the triage benchmark: the project's application with ROOT_URLCONF set to
``bench.minimal_urls`` (the project's URLs plus the benchmarks' floors: ``/bench/ok.json``, the
pages' and the triage API's).

The environment (``runner.django_environment``: DJANGO_SETTINGS_MODULE, DATABASE_URL,
DJANGO_DEBUG=false, …) is set by ``bench/triage_lookup.py`` when it starts gunicorn.
``BENCH_CONN_MAX_AGE`` (seconds, default 0) sets the workers' CONN_MAX_AGE, so the benchmark
shows what persistent database connections change (``--conn-max-age``).
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
