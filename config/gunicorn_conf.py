"""gunicorn's settings in production (docker/Dockerfile, docker/compose.yml) and in the load test
(bench/load/run.py), so the load test measures the server production runs.

    gunicorn config.wsgi -c config/gunicorn_conf.py

Sized for the production host's 2 cores, which PostgreSQL, Redis and the Celery worker share:
``WEB_CONCURRENCY`` processes of ``GUNICORN_THREADS`` threads each (docs/decisions.md, "Web
server for 2 cores"). Threads overlap a request's waits for PostgreSQL with another's Python;
the processes, not the threads, use both cores (one interpreter lock per process), and two
threads a process, not four, keep a page from waiting for the lock behind another's Python
after each of its queries (measured: p95 92 ms with 3 × 4, 55 ms with 6 × 2). A thread
busy with a slow download or a password check (PBKDF2, most of a second) holds one slot, not
a whole process, and gthread workers keep connections alive behind the proxy.
"""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("WEB_CONCURRENCY", "6"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# A gthread worker answers the arbiter's heartbeat between requests on its main thread, so a
# long request (a large export) does not get it killed; this bounds a hung one.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# The reverse proxy keeps connections open for a few seconds between a user's requests.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# One line per request on stdout (the container's log); "" switches it off.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")


# Python's full (oldest-generation) garbage collection walks every object the worker holds,
# with Django, its apps, the compiled templates and URL patterns some 190,000: under the load
# test each took 70-144 ms (median 94 ms, 14 in 2 minutes over the 6 processes), a pause that
# both of the process's requests waited out. Objects frozen with ``gc.freeze()`` are never
# walked again (they live as long as the worker anyway), so a full collection walks only what
# requests made since: median 22 ms, at most 57 ms in the same test (docs/decisions.md,
# "Garbage collection in the web workers"). Frozen twice: once the application is loaded, and
# once the first requests have compiled the templates and URL patterns they use.
FREEZE_AGAIN_AFTER_REQUESTS = 200


def post_worker_init(worker):
    gc.collect()
    gc.freeze()


_frozen_after_warm_up = False


def post_request(worker, req, environ, resp):
    # A module global, not ``worker.nr == …``: with two threads the count can pass the mark
    # between a request's start and its hook.
    global _frozen_after_warm_up
    if not _frozen_after_warm_up and worker.nr >= FREEZE_AGAIN_AFTER_REQUESTS:
        _frozen_after_warm_up = True
        gc.collect()
        gc.freeze()
