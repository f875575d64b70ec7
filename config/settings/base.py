"""Settings shared by every environment; each value can be overridden from the environment."""

from pathlib import Path

from celery.schedules import crontab
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
    "import_export",
    "hap_contracting",
    "checklist",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "hap_contracting.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "hap_contracting:my_work"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"

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
        "task": "hap_contracting.run_daily_contract_job",
        "schedule": crontab(hour=env.int("DAILY_JOB_HOUR", default=6), minute=0),
    },
}

# Contracts and renewals (seed 004, 7.1). Offsets are days before the date they count down to.
CONTRACT_DEFAULT_TERM_MONTHS = env.int("CONTRACT_DEFAULT_TERM_MONTHS", default=24)
RENEWAL_LEAD_MONTHS = env.int("RENEWAL_LEAD_MONTHS", default=3)
RENEWAL_REMINDER_DAYS = env.list("RENEWAL_REMINDER_DAYS", subcast=int, default=[90, 60, 30, 7])
COMPLETION_DEADLINE_MONTHS = env.int("COMPLETION_DEADLINE_MONTHS", default=6)
COMPLETION_REMINDER_DAYS = env.list("COMPLETION_REMINDER_DAYS", subcast=int, default=[30, 7])
GRACE_PERIOD_MONTHS = env.int("GRACE_PERIOD_MONTHS", default=3)
GRACE_REMINDER_DAYS = env.list("GRACE_REMINDER_DAYS", subcast=int, default=[30, 7])
CONTRACT_DOCUMENT_MAX_BYTES = env.int("CONTRACT_DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)

DJANGO_FSM_LOG_IGNORED_MODELS: list[str] = []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
