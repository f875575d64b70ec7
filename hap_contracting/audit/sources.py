"""The source of an access (NEN 7513): the client's address and browser of the request being
handled, set by ``middleware.AccessSourceMiddleware`` and read by every access-log entry."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class AccessSource:
    address: str | None = None
    user_agent: str = ""


NO_SOURCE = AccessSource()
current_source: ContextVar[AccessSource] = ContextVar("access_source", default=NO_SOURCE)
