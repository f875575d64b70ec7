"""Settings shared by every environment; each value can be overridden from the environment."""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _
from environs import Env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = Env()
env.read_env(BASE_DIR / ".env", recurse=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rules.apps.AutodiscoverRulesConfig",
    "django_fsm",
    "django_fsm_log",
    "pgtrigger",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "csp",
    "config.apps.LoginAttemptsConfig",  # django-axes, named in Dutch
    "django_otp",
    "config.apps.AuthenticatorAppsConfig",  # django-otp's TOTP devices, named in Dutch
    "django_ratelimit",
    # The domain's apps, from the bottom of the dependency order up (docs/architecture.md).
    "hap_contracting.core",
    "hap_contracting.organisations",
    "hap_contracting.tariffs",
    "accounts",
    "hap_contracting.audit",
    "checklist",
    "hap_contracting.procedure",
    "hap_contracting.contracts",
    "hap_contracting.triage",
    "hap_contracting.billing",
    "hap_contracting.dashboard",
    "hap_contracting.operations",
]

# "Pages…": Django's and the packages' own, skipped by the API (/api/: a bearer token, JSON),
# for which they do nothing but cost time at every lookup (hap_contracting/core/middleware.py).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hap_contracting.core.middleware.PagesCSPMiddleware",
    "hap_contracting.core.middleware.PagesSessionMiddleware",
    "hap_contracting.core.middleware.PagesLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "hap_contracting.core.middleware.PagesAuthenticationMiddleware",
    "hap_contracting.audit.middleware.AccessSourceMiddleware",
    "hap_contracting.core.middleware.PagesOTPMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "hap_contracting.core.middleware.PagesMessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.session_timeout",
                "hap_contracting.dashboard.context_processors.my_work_count",
            ],
        },
    },
]

# SQLite is only the embedded default of the local demo; CI and production set DATABASE_URL
# to PostgreSQL (psycopg 3).
DATABASES = {
    "default": env.dj_db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: opening one per request costs more than many a page (the triage API).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: a list's query with correlated subqueries (payments per invoice)
    # looks expensive to the planner, which then spent 8 s in LLVM on a query that runs in
    # milliseconds. Short queries are all this application runs.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:my_work"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login protection (NEN 7510). django-axes locks a username out *from one address* after
# repeated failed logins: someone typing five wrong passwords for a council member's name does
# not lock the member out at their own desk before a decision. The price: a guess spread over
# many addresses gets five tries per address; the second factor (council, finance,
# administrators) and twelve-character passwords answer that (docs/decisions.md). Behind the
# reverse proxy the client's address is the proxy's X-Forwarded-For (DJANGO_PROXY_COUNT).
AXES_FAILURE_LIMIT = env.int("DJANGO_AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_IPWARE_PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Two-factor authentication (TOTP, django-otp) for the roles that see contracts, money and
# everyone's data, and for superusers. The local demo switches it off (docs/decisions.md).
OTP_REQUIRED = env.bool("DJANGO_OTP_REQUIRED", default=True)
OTP_REQUIRED_ROLES = ["regional_council", "finance", "administrator"]
OTP_TOTP_ISSUER = "Medrie ANW-contractering"

# Sessions: logged out after 30 idle minutes and at the latest 10 hours after the login, then a
# new login with the second factor (accounts.middleware.SessionTimeoutMiddleware). The page
# warns a few minutes before the idle logout and offers to stay logged in.
SESSION_IDLE_TIMEOUT = timedelta(minutes=env.int("DJANGO_SESSION_IDLE_MINUTES", default=30))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env.int("DJANGO_SESSION_MAX_HOURS", default=10))
SESSION_IDLE_WARNING = timedelta(minutes=5)
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
# A password reset link holds for an hour.
PASSWORD_RESET_TIMEOUT = 3600

# The cache keeps the rate limits (password reset, triage API): shared by every process in
# production (Redis), in process for the demo and the tests.
CACHES = {"default": env.dj_cache_url("DJANGO_CACHE_URL", default="locmem://")}
RATELIMIT_USE_CACHE = "default"
# The triage API per client: a post's triage system asks once per call about an address, a few
# a minute on a busy evening; 300 a minute leaves room for a burst without letting a broken
# client loop flood the database. Wrong tokens: 10 a minute per address.
TRIAGE_API_RATE = env.str("TRIAGE_API_RATE", default="300/m")
TRIAGE_API_BAD_TOKEN_RATE = env.str("TRIAGE_API_BAD_TOKEN_RATE", default="10/m")
# Each web process remembers a valid token's client this many seconds instead of asking the
# database at every lookup; a deactivated client is refused everywhere within this time.
TRIAGE_API_CLIENT_CACHE_SECONDS = env.int("TRIAGE_API_CLIENT_CACHE_SECONDS", default=10)

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

STATIC_URL = "static/"
# Where `collectstatic` writes (the image: /app/staticfiles); the load test collects elsewhere.
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # WhiteNoise serves static files from the web process; production.py switches to its
    # compressed, hashed storage, which needs `collectstatic` (done when the image is built).
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Content security policy (django-csp 4): everything from this site only; no inline scripts or
# styles (templates load static files), no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap draws its icons (the menu button, select arrows) as data: SVGs.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_CONFIG = env.dj_email_url("DJANGO_EMAIL_URL", default="console://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str(
    "DJANGO_DEFAULT_FROM_EMAIL", default="ANW-contractering <noreply@localhost>"
)
# Links in e-mails point here; the request's own host is not known inside a Celery task.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Celery: tasks take primary keys and are idempotent, because a task is acknowledged only
# after it ran (a worker that dies mid-task leaves it on the queue for another worker).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# django-celery-beat copies this into its tables at start; the daily job runs at 06:00 Amsterdam
# time (a wall-clock hour that exists on both DST change days).
CELERY_BEAT_SCHEDULE: dict = {
    "daily-contract-job": {
        "task": "operations.run_daily_job",
        "schedule": crontab(hour=env.int("DAILY_JOB_HOUR", default=6), minute=0),
    },
}

# Contracts and renewals (seed 004, 7.1). Offsets are days before the date they count down to.
CONTRACT_DEFAULT_TERM_MONTHS = env.int("CONTRACT_DEFAULT_TERM_MONTHS", default=24)
RENEWAL_LEAD_MONTHS = env.int("RENEWAL_LEAD_MONTHS", default=3)
RENEWAL_REMINDER_DAYS = env.list("RENEWAL_REMINDER_DAYS", subcast=int, default=[90, 60, 30, 7])
# A reminder that an address refuses is retried for that address on the next runs, this often.
REMINDER_MAX_ATTEMPTS = env.int("REMINDER_MAX_ATTEMPTS", default=5)
# The completion deadline (six months after the council's decision) is the contracting step's
# service norm, kept per region by an administrator (procedure.StepNorm), like every step's.
COMPLETION_REMINDER_DAYS = env.list("COMPLETION_REMINDER_DAYS", subcast=int, default=[30, 7])
# Warnings before a step's service norm runs out (received to council; contracting: above).
STEP_REMINDER_DAYS = env.list("STEP_REMINDER_DAYS", subcast=int, default=[7])
GRACE_PERIOD_MONTHS = env.int("GRACE_PERIOD_MONTHS", default=3)
GRACE_REMINDER_DAYS = env.list("GRACE_REMINDER_DAYS", subcast=int, default=[30, 7])
# The dashboard lists requests waiting longer than this in one step.
DASHBOARD_WAITING_DAYS = env.int("DASHBOARD_WAITING_DAYS", default=14)

# Billing (seed 004, 7.2). The BSN, when a claims file has one, is kept only as an HMAC with this
# key; set it apart from the secret key in production so rotating one leaves the other.
BSN_HASH_KEY = env.str("BSN_HASH_KEY", default=SECRET_KEY)
CLAIM_IMPORT_MAX_BYTES = env.int("CLAIM_IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
# What one import may take beyond the worker's own memory; past it the import is rejected
# ("too large to read") rather than the worker killed. And a worker child whose memory grew
# past the second figure (in KiB) is replaced after its task.
CLAIM_IMPORT_MEMORY_MB = env.int("CLAIM_IMPORT_MEMORY_MB", default=512)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_KB", default=800_000)
CONTRACT_DOCUMENT_MAX_BYTES = env.int("CONTRACT_DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
# Days from the invoice date to the due date, fixed on each invoice at its approval.
INVOICE_PAYMENT_TERM_DAYS = env.int("INVOICE_PAYMENT_TERM_DAYS", default=30)
# Days after the due date of an open or partly paid invoice: the first payment reminder, the
# second, and the listing for collection (``billing.services.payment_reminders``).
PAYMENT_REMINDER_FIRST_DAYS = env.int("PAYMENT_REMINDER_FIRST_DAYS", default=14)
PAYMENT_REMINDER_SECOND_DAYS = env.int("PAYMENT_REMINDER_SECOND_DAYS", default=28)
PAYMENT_COLLECTION_DAYS = env.int("PAYMENT_COLLECTION_DAYS", default=42)
# Files shared beside the repository that are not part of the product, such as the official
# SI-UBL 2.0 validation rules the tests run the e-invoices through (validators/si-ubl-2.0/).
SHARED_DIR = Path(env.str("SHARED_DIR", default=str(BASE_DIR.parent / "shared")))

DJANGO_FSM_LOG_IGNORED_MODELS: list[str] = []
# The simple backend, with the moment a step was taken when a service gives one (core.fsm_log).
DJANGO_FSM_LOG_STORAGE_METHOD = "hap_contracting.core.fsm_log.DatedBackend"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
