"""The image's health check: GET /healthz on the local gunicorn, healthy when it answers 200.

Standard library only. It names an allowed host (Django refuses other Host headers); /healthz
is exempt from the HTTPS redirect, so plain HTTP inside the container is enough.
"""

import os
import sys
import urllib.error
import urllib.request


def allowed_host() -> str:
    first = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")[0].strip()
    host = first.lstrip(".")  # ".example.org" allows every subdomain, the domain itself too
    return "localhost" if host in ("", "*") else host


def main() -> int:
    request = urllib.request.Request(
        "http://127.0.0.1:8000/healthz", headers={"Host": allowed_host()}
    )
    try:
        # bandit B310 warns of file: URLs; this one is fixed.
        with urllib.request.urlopen(request, timeout=4) as response:  # nosec B310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
