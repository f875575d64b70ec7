"""Every demo login, every page it can reach from the start page by following links: no server
error, and no internal reference (the source documents' numbering) in what users read. The demo
holds a contract that lapsed without a renewal request (it took the regional dashboard and
"Mijn werk" down once)."""

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
INTERNAL_REFERENCE = re.compile(r"\bseed 0\d\d\b", re.IGNORECASE)


def internal_links(base: str, html: str) -> set[str]:
    links = set()
    for href in HREF.findall(html):
        url, _fragment = urldefrag(urljoin(base, href.replace("&amp;", "&")))
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver") or SKIPPED.search(parts.path):
            continue
        links.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links


def crawl(client) -> tuple[dict[str, int], set[str]]:
    """The status of every page reached, and the pages that show an internal reference."""
    seen, queue, statuses, referencing = {"/"}, deque(["/"]), {}, set()
    while queue and len(statuses) < MAX_PAGES_PER_LOGIN:
        url = queue.popleft()
        response = client.get(url)
        statuses[url] = response.status_code
        if response.status_code in (301, 302):
            found = {urlsplit(response["Location"]).path}
        elif "text/html" in response.get("Content-Type", ""):
            html = response.content.decode()
            found = internal_links(url, html)
            if INTERNAL_REFERENCE.search(html):
                referencing.add(url)
        else:
            found = set()
        for link in found - seen:
            seen.add(link)
            queue.append(link)
    return statuses, referencing


@pytest.mark.django_db
def test_no_page_reachable_by_any_demo_login_is_a_server_error_or_cites_the_sources(client):
    call_command("seed_demo", password="demo-wachtwoord-123")
    lapsed = Contract.objects.filter(
        end_date__lt=timezone.localdate(), renewal_request__isnull=True
    )
    assert lapsed.exists()

    errors, references = {}, set()
    for user in User.objects.order_by("username"):
        client.force_login(user)
        statuses, referencing = crawl(client)
        references |= {f"{user.username} {url}" for url in referencing}
        assert len(statuses) > 5, user.username
        errors.update(
            {f"{user.username} {url}": status for url, status in statuses.items() if status >= 500}
        )
        client.logout()

    assert errors == {}
    assert references == set()
