"""Every demo login, every page it can reach from the start page by following links: no server
error. The demo holds a contract that lapsed without a renewal request (it took the regional
dashboard and "Mijn werk" down once)."""

import re
from collections import deque
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from hap_contracting.contracts.models import Contract

HREF = re.compile(r'href="([^"#][^"]*)"')
# Downloads are followed too, except the PDFs (slow to render and covered by their own tests).
SKIPPED = re.compile(r"^/(static|media)/|^/logout/|\.pdf$")
MAX_PAGES_PER_LOGIN = 250


def internal_links(base: str, html: str) -> set[str]:
    links = set()
    for href in HREF.findall(html):
        url, _fragment = urldefrag(urljoin(base, href.replace("&amp;", "&")))
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver") or SKIPPED.search(parts.path):
            continue
        links.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links


def crawl(client) -> dict[str, int]:
    seen, queue, statuses = {"/"}, deque(["/"]), {}
    while queue and len(statuses) < MAX_PAGES_PER_LOGIN:
        url = queue.popleft()
        response = client.get(url)
        statuses[url] = response.status_code
        if response.status_code in (301, 302):
            found = {urlsplit(response["Location"]).path}
        elif "text/html" in response.get("Content-Type", ""):
            found = internal_links(url, response.content.decode())
        else:
            found = set()
        for link in found - seen:
            seen.add(link)
            queue.append(link)
    return statuses


@pytest.mark.django_db
def test_no_page_reachable_by_any_demo_login_is_a_server_error(client):
    call_command("seed_demo", password="demo-wachtwoord-123")
    lapsed = Contract.objects.filter(
        end_date__lt=timezone.localdate(), renewal_request__isnull=True
    )
    assert lapsed.exists()

    errors = {}
    for user in User.objects.order_by("username"):
        client.force_login(user)
        statuses = crawl(client)
        assert len(statuses) > 5, user.username
        errors.update(
            {f"{user.username} {url}": status for url, status in statuses.items() if status >= 500}
        )
        client.logout()

    assert errors == {}
