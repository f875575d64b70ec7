"""Every page type, for every role's demo login, meets WCAG 2.1 A and AA as far as axe-core can
tell, and does not scroll sideways on a phone (390 px) or a tablet (768 px); at 1280 px the menu
stays on one line.

The pages are found, not listed: the Django test client follows the links from "Mijn werk" (as
tests/system/test_crawl.py does) and groups the URLs it reaches by page type (the URL pattern's
name; the request's step forms by step too). The browser then opens one page of each type. So a
new page is checked as soon as a link leads to it, and no test here depends on the pages' texts.
"""

import re
import uuid
from collections import deque
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.urls import Resolver404, resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from hap_contracting.core.roles import ADMIN_SITE_ROLES, Role
from hap_contracting.procedure.models import AdmissionRequest
from hap_contracting.procedure.selectors.admission import admission_requests_visible_to
from tests.conftest import open_user_menu

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "demo-wachtwoord-123"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
NARROW_WIDTHS = (390, 768)
WIDE = {"width": 1280, "height": 900}

HREF = re.compile(r'href="([^"#][^"]*)"')
# Not pages: static files, downloads, the logout (a POST anyway) and the admin's redirects.
SKIPPED = re.compile(
    r"^/(static|media)/|^/logout/|^/admin/(r|logout|jsi18n)/|\.(pdf|csv|xlsx|json)$"
)
# URL arguments that only say which object a page shows: pages that differ only in these are of
# one type. Other arguments (the request's step, ``action``) make a type of their own.
IDENTIFYING = {
    "pk",
    "id",
    "object_id",
    "document_pk",
    "slug",
    "token",
    "uidb64",
    "revision",
    "app_label",
}
# <app>_<model>_<view>: the admin's views of a model (not the site's own password_change).
ADMIN_KIND = re.compile(r"^\w+_[a-z0-9]+_(changelist|change|add|delete|history)$")
# The admin pages with templates of ours (templates/admin/) are types of their own.
OWN_ADMIN_TYPES = re.compile(
    r"procedure_admissionrequest_|audit_accesslogentry_|\w+_password_change$"
)
# The crawl opens up to this many pages of one type to find the links on them (the request page
# shows other step forms in every state; every model's changelist may lead to a page of its
# own); the browser checks only the first of each type.
EXPANDED_PER_TYPE = {"app": 40, "admin": 40}
MAX_FETCHES = 400


def page_type(path: str) -> str | None:
    """``procedure:request_detail``, ``procedure:request_action action=advise-...``, and for the
    admin ``admin:changelist`` etc. whatever the model (a model's own admin views keep their
    name); None for a URL that is not a page of ours."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    name = match.view_name
    # Of the models without templates of ours, one changelist, change form etc. is checked.
    kind = ADMIN_KIND.search(match.url_name or "")
    if match.namespace == "admin" and kind and not OWN_ADMIN_TYPES.match(match.url_name):
        name = f"admin:{kind.group(1)}"
    kept = sorted(
        f"{key}={value}"
        for key, value in match.kwargs.items()
        if key not in IDENTIFYING
        and not isinstance(value, int | uuid.UUID)
        and not str(value).isdigit()
    )
    return " ".join([name, *kept])


def links(base: str, html: str) -> list[str]:
    found = []
    for href in HREF.findall(html):
        url, _fragment = urldefrag(urljoin(base, href.replace("&amp;", "&")))
        parts = urlsplit(url)
        # Sorted, filtered and paged lists are the same page type as the plain list.
        if parts.netloc not in ("", "testserver") or parts.query or SKIPPED.search(parts.path):
            continue
        found.append(parts.path)
    return found


def page_types_reached(client, start: list[str]) -> dict[str, str]:
    """The first URL of each page type that the logged-in client reaches from ``start``."""
    first: dict[str, str] = {}
    expanded: dict[str, int] = {}
    seen, queue, fetches = set(start), deque(start), 0
    while queue and fetches < MAX_FETCHES:
        url = queue.popleft()
        kind = page_type(url)
        if kind is None:
            continue
        collapsed = kind.startswith("admin:") and not OWN_ADMIN_TYPES.match(kind[6:])
        limit = EXPANDED_PER_TYPE["admin" if collapsed else "app"]
        if expanded.get(kind, 0) >= limit:
            continue
        response = client.get(url)
        fetches += 1
        if response.status_code in (301, 302):
            target = urlsplit(response["Location"]).path
            if target not in seen:
                seen.add(target)
                queue.append(target)
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        expanded[kind] = expanded.get(kind, 0) + 1
        first.setdefault(kind, url)
        for link in links(url, response.content.decode()):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return first


def start_pages(user: User) -> list[str]:
    """Mijn werk first; for the admin's roles the admission request's admin pages before the
    other models', so those are the changelist and change form checked."""
    start = [reverse("dashboard:my_work")]
    if user.is_staff:
        start.append(reverse("admin:index"))
        start.append(reverse("admin:procedure_admissionrequest_changelist"))
        first = admission_requests_visible_to(user).order_by("pk").first()
        if first is not None:
            start.append(reverse("admin:procedure_admissionrequest_change", args=[first.pk]))
    if set(user.role_names) & set(settings.OTP_REQUIRED_ROLES):
        start.append(reverse("accounts:two_factor_setup"))
    return start


def logged_out_pages() -> dict[str, str]:
    """What a visitor without a login sees: the login and password-reset pages, the requester's
    status page and the page for a URL that does not exist."""
    user = User.objects.filter(is_active=True).order_by("pk").first()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    request = AdmissionRequest.objects.order_by("pk").first()
    return {
        "login": reverse("login"),
        "password_reset": reverse("accounts:password_reset"),
        "password_reset_done": reverse("accounts:password_reset_done"),
        "password_reset_confirm": reverse("accounts:password_reset_confirm", args=[uid, token]),
        "password_reset_complete": reverse("accounts:password_reset_complete"),
        "requester_status": reverse("procedure:requester_status", args=[request.public_token]),
        "not_found": "/deze-pagina-bestaat-niet/",
    }


def axe_violations(page, axe) -> list[str]:
    results = axe.run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    return [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:6])
        + (f" and {len(violation['nodes']) - 6} more" if len(violation["nodes"]) > 6 else "")
        for violation in results.response["violations"]
    ]


def layout_problems(page) -> list[str]:
    """At 1280 px the menu's items on one line; at 390 and 768 px nothing wider than the
    window; a table in our pages scrolls in its own box (the admin's are the admin's)."""
    problems = []
    loose = page.eval_on_selector_all(
        "main#main table", "tables => tables.filter(t => !t.closest('.table-responsive')).length"
    )
    if loose:
        problems.append(f"{loose} table(s) not in a .table-responsive box")
    tops = page.eval_on_selector_all(
        "nav.navbar .nav-item", "items => items.map(item => item.offsetTop)"
    )
    if len(set(tops)) > 1:
        problems.append(f"the menu takes more than one line at {WIDE['width']} px: {tops}")
    for width in NARROW_WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            wide = page.evaluate(WIDEST_ELEMENTS)
            problems.append(f"scrolls sideways at {width} px ({scroll_width} px wide): {wide}")
    page.set_viewport_size(WIDE)
    return problems


# The elements that stick out past the window's right edge, for the failure message.
WIDEST_ELEMENTS = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.getBoundingClientRect().right > width + 1 && !el.closest(".table-responsive")) {
      const parent = el.parentElement;
      if (parent && parent.getBoundingClientRect().right > width + 1) continue;
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (el.className && typeof el.className === "string"
           ? "." + el.className.trim().split(/\\s+/).join(".") : ""));
    }
  }
  return out.slice(0, 5);
}"""


def check_pages(page, pages: dict[str, str]) -> tuple[list[str], int]:
    """Each page's axe violations and layout problems, as lines naming the page; and the number
    of violations (rule x page)."""
    from axe_playwright_python.sync_playwright import Axe

    axe, problems, violations = Axe(), [], 0
    for kind, url in pages.items():
        response = page.goto(url)
        expected = 404 if kind == "not_found" else 200
        if response is None or response.status != expected:
            problems.append(f"{kind} {url}: status {response and response.status}")
            continue
        found = axe_violations(page, axe)
        violations += len(found)
        problems += [f"{kind} {url}: {line}" for line in found]
        problems += [f"{kind} {url}: {line}" for line in layout_problems(page)]
    return problems, violations


def phone_menu_violations(page, client, live_server, user) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    log_in_by_cookie(page, client, live_server, user)
    page.set_viewport_size({"width": NARROW_WIDTHS[0], "height": 800})
    page.goto(reverse("dashboard:my_work"))
    open_user_menu(page)
    found = axe_violations(page, Axe())
    page.set_viewport_size(WIDE)
    return found


def log_in_by_cookie(page, client, live_server, user, keep_cookies=False) -> None:
    """The browser takes over a session the test client opened: faster than the login form,
    and not counted as a login attempt by django-axes."""
    client.force_login(user)
    if not keep_cookies:
        page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def report(pages: dict, problems: list[str], violations: int) -> str:
    return (
        f"{len(pages)} pages checked ({', '.join(sorted(pages))}), {violations} axe violations "
        f"(rule x page), {len(problems)} problems:\n" + "\n".join(problems)
    )


@pytest.fixture
def demo(db):
    call_command("seed_demo", password=PASSWORD)


@pytest.mark.parametrize("role", list(Role))
def test_every_page_type_a_role_reaches_is_accessible_and_fits_narrow_screens(
    role, demo, page, client, live_server
):
    logins = list(User.objects.filter(groups__name=role, is_active=True).order_by("username"))
    assert logins, f"the demo has no login with the role {role}"
    # Each login of the role (one per region) may reach page types the others do not (a
    # request in another state); each type is checked once, with the first login reaching it.
    checked: dict[str, tuple[User, str]] = {}
    for user in logins:
        client.force_login(user)
        for kind, url in page_types_reached(client, start_pages(user)).items():
            checked.setdefault(kind, (user, url))
        client.logout()
    assert "dashboard:my_work" in checked
    if role in ADMIN_SITE_ROLES:
        assert {"admin:index", "admin:procedure_admissionrequest_changelist"} <= set(checked)

    problems, violations = [], 0
    for user in logins:
        pages = {kind: url for kind, (login, url) in checked.items() if login == user}
        if not pages:
            continue
        log_in_by_cookie(page, client, live_server, user)
        found, count = check_pages(page, {f"{user.username} {k}": v for k, v in pages.items()})
        problems += found
        violations += count
    # The menu as a phone shows it: folded out, with the user's menu open.
    found = phone_menu_violations(page, client, live_server, logins[0])
    problems += [f"{logins[0].username} menu at 390 px: {line}" for line in found]
    violations += len(found)
    print(f"\n{role}: {report(checked, problems, violations)}")
    assert problems == [], report(checked, problems, violations)


def test_the_pages_without_a_login_are_accessible_and_fit_narrow_screens(demo, page):
    pages = logged_out_pages()
    problems, violations = check_pages(page, pages)
    print(f"\nlogged out: {report(pages, problems, violations)}")
    assert problems == [], report(pages, problems, violations)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_menu_stays_on_one_line_at_1280_px_for_a_user_with_every_role(
    language, page, client, live_server, make_user, zwolle
):
    """The longest menu there is: every role's items and the admin's, in either language."""
    user = make_user(*Role, is_staff=True, first_name="Maximiliaan-Alexander")
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    log_in_by_cookie(page, client, live_server, user, keep_cookies=True)
    page.set_viewport_size(WIDE)
    page.goto(reverse("dashboard:my_work"))

    assert page.locator("html").get_attribute("lang") == language
    items = page.locator("nav.navbar .nav-item")
    # At least eight links, the language switch and the user's menu (more as pages are added).
    assert items.count() >= 10
    assert len(set(items.evaluate_all("items => items.map(item => item.offsetTop)"))) == 1


# The focus ring's width and style, and whether the element is inside the window.
FOCUS_STYLE = """el => {
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {style: style.outlineStyle, width: parseFloat(style.outlineWidth),
          shown: box.top >= 0 && box.left >= 0 && box.width > 0 && box.height > 0};
}"""


def test_the_keyboard_reaches_a_skip_link_first_and_sees_where_the_focus_is(
    page, client, live_server, staff
):
    log_in_by_cookie(page, client, live_server, staff[Role.LOCATION_MANAGER])
    page.goto(reverse("procedure:request_list"))

    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.get_attribute("href") == "#main"
    assert skip.evaluate(FOCUS_STYLE) == {"style": "solid", "width": 3, "shown": True}
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # Onwards from the top: the brand, then the menu's links, each with a visible ring.
    page.goto(reverse("procedure:request_list"))
    for _ in range(3):
        page.keyboard.press("Tab")
    focused = page.locator(":focus")
    assert focused.evaluate("el => el.matches('nav.navbar .nav-link')")
    assert focused.evaluate(FOCUS_STYLE)["style"] == "solid"
    assert focused.evaluate(FOCUS_STYLE)["width"] >= 2


def test_the_menu_marks_the_page_shown_and_its_section(page, client, live_server, staff):
    log_in_by_cookie(page, client, live_server, staff[Role.SECRETARIAT])
    page.goto(reverse("procedure:request_list"))
    menu = page.locator("nav.navbar")

    current = menu.locator("[aria-current=page]")
    assert current.count() == 1
    assert current.get_attribute("href") == reverse("procedure:request_list")
    # Shown, not by colour alone: underlined and bold, unlike the other items.
    style = "el => [getComputedStyle(el).textDecorationLine, getComputedStyle(el).fontWeight]"
    assert current.evaluate(style) == ["underline", "700"]
    other = menu.locator(f"a.nav-link[href='{reverse('contracts:contract_list')}']")
    assert other.evaluate(style) != ["underline", "700"]

    page.goto(reverse("procedure:request_create"))
    assert menu.locator("[aria-current=page]").count() == 0
    assert menu.locator("a[aria-current=true]").get_attribute("href") == reverse(
        "procedure:request_list"
    )
