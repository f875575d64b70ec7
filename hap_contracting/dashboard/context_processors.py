from . import selectors


def my_work_count(request) -> dict:
    """The number beside "Mijn werk" in the menu; counted only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_work_count": lambda: selectors.cached_work_count(user)}
