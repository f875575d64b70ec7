from django.conf import settings


def session_timeout(request) -> dict:
    """For the page's idle-logout warning (``static/js/session-timeout.js``)."""
    return {
        "session_idle_seconds": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
        "session_warning_seconds": int(settings.SESSION_IDLE_WARNING.total_seconds()),
        "session_warning_minutes": int(settings.SESSION_IDLE_WARNING.total_seconds() // 60),
    }
