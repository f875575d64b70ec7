"""The load test's logins: shared by the data set (``bench.datasets.load_logins``, in the
benchmark's process, with Django) and the simulated users (``locustfile.py``, in locust's
process, without Django).

The roles that must give a second factor in production (``OTP_REQUIRED_ROLES``: the council,
finance, administrators) log in with a password and a TOTP code. django-otp accepts a code
once per device (a second login with the same code in the same 30 seconds is refused, as it
should be), so every simulated user of those roles has a login of its own,
``bench.load.<prefix>.<n>`` (the council's per region), with an authenticator whose key follows
from the username: the simulated user computes its codes as a phone would. The other roles use
``seed_demo``'s logins (one per role per region), shared by several simulated users.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import time

REGIONS = ("hardenberg", "zwolle", "flevoland")
PREFIX = "bench.load."
# More than the simulated users of one class at 50 (or 100) users in all: a login is never
# used by two simulated users at once.
OTP_LOGINS_PER_ROLE = 24
TOTP_STEP = 30
TOTP_DIGITS = 6


def council_logins() -> tuple[str, ...]:
    """Round-robin over the regions: the n-th simulated council member is in region n % 3."""
    per_region = -(-OTP_LOGINS_PER_ROLE // len(REGIONS))
    return tuple(f"{PREFIX}regioraad.{region}.{n}" for n in range(per_region) for region in REGIONS)


def finance_logins() -> tuple[str, ...]:
    return tuple(f"{PREFIX}financien.{n}" for n in range(OTP_LOGINS_PER_ROLE))


def administrator_logins() -> tuple[str, ...]:
    return tuple(f"{PREFIX}beheerder.{n}" for n in range(OTP_LOGINS_PER_ROLE))


def totp_key(username: str) -> str:
    """The login's authenticator key: 20 bytes in hex, as django-otp's ``TOTPDevice.key``."""
    return hashlib.sha1(f"hap-load-totp:{username}".encode()).hexdigest()


def totp_code(username: str, at: float | None = None) -> str:
    """The code the login's authenticator shows at ``at`` (RFC 6238 with django-otp's defaults:
    HMAC-SHA1, 30-second steps from 0, six digits)."""
    counter = int((time.time() if at is None else at) // TOTP_STEP)
    digest = hmac.new(bytes.fromhex(totp_key(username)), struct.pack(">Q", counter), "sha1")
    mac = digest.digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**TOTP_DIGITS).zfill(TOTP_DIGITS)
