"""The triage API (django-ninja): the triage system (TPM) asks "postcode + house number →
verdict" during a call, and keeps its own copy of the filter list in sync through the feed
(``/api/v1/triage/addresses``). The OpenAPI description at ``/api/v1/openapi.json`` is
generated from the code below: the parameter schemas, the answers' schemas and the auth.

Authentication is a bearer token per client (``TriageApiClient``); only its SHA-256 is stored,
so a token is found by its hash in one indexed query, and each process keeps the client it
found for ``TRIAGE_API_CLIENT_CACHE_SECONDS``. No session, no cookie, no CSRF: the API only
answers GET, and its requests pass the pages' middleware (``core.middleware``). The answers
carry no patient data, only addresses and what the HAP does there.

A lookup is one indexed query for the verdict, which the services keep per address
(``TriageAddressVerdict``), and one INSERT in the access log, where every read of a client is.
``last_used_at`` is written at most once a minute per client, so a busy client does not turn
every lookup into a second write. The lookup returns its JSON itself (no pydantic serialisation
on the hot path); schemathesis checks in CI that it keeps to the published schema.

The feed's answer at a version never changes (the list's changes are never changed nor
deleted), so a process keeps the last answers it wrote by question and version; a read costs
the version's query, the access log's INSERT and, when due, the client's sync, in one commit.

Each client has its own rate limit (``TRIAGE_API_RATE``); requests with a wrong token are
limited per address (``TRIAGE_API_BAD_TOKEN_RATE``), so guessing tokens is slow (and hopeless:
a token has 256 random bits). Over a limit the answer is 429 with Retry-After, the seconds until
the window ends. The limits count in the shared cache; when the cache is down the API answers
anyway: a triage lookup during a call matters more than the limit.

The parameters are checked exactly as the description publishes them (one pattern for each,
from ``core.validators``): a client that follows the description is never refused, and one that
does not gets a 400 naming the field, in Dutch.
"""

from __future__ import annotations

import collections
import datetime
import functools
import json
import logging
import re
import threading

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone, translation
from django.utils.http import http_date, parse_etags
from django.utils.translation import gettext
from django_ratelimit.core import get_usage
from ninja import Field, Header, NinjaAPI, Query, Schema
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security.http import HttpAuthBase
from pydantic import BaseModel, model_validator

from hap_contracting.audit.services import access_log_record_api_read
from hap_contracting.core.validators import (
    HOUSE_NUMBER_ADDITION_PATTERN,
    HOUSE_NUMBER_MAX,
    HOUSE_NUMBER_PATTERN,
    POSTCODE_PATTERN,
    matches,
    normalise_house_number_addition,
    normalise_postcode,
)

from .constants import TriageFilterReason, TriageListChangeKind, TriageVerdict
from .selectors import (
    triage_api_client_for_token,
    triage_list_at_version,
    triage_list_changes,
    triage_list_on,
    triage_list_version,
    triage_verdict_at,
)
from .services import (
    triage_api_client_record_sync,
    triage_api_client_record_use,
    triage_api_client_sync_due,
)

logger = logging.getLogger(__name__)

NOT_COUNTED = {"limit": 0, "should_limit": False}
_BEARER_RE = re.compile(r"^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$", re.IGNORECASE)
# The published address, as the verdict answers and the feed lists it.
PUBLISHED_POSTCODE_PATTERN = r"^[1-9][0-9]{3} [A-Z]{2}$"
PUBLISHED_ADDITION_PATTERN = r"^[A-Z0-9-]{0,6}$"
VERSION_MAX = 2**63 - 1  # the change table's ids are 64-bit
VERSION_PATTERN = r"^(0|[1-9][0-9]{0,18})$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

api = NinjaAPI(
    title="Triage-filter ANW-zorg",
    version="1.1.0",
    description=(
        "Wat de huisartsenpost doet bij een hulpvraag vanaf een adres, en de triagefilterlijst "
        "zelf om bij te houden. "
        "`contracted`: de locatie heeft een ANW-contract. "
        "`no_anw_care_without_agreement`: Wlz-locatie met behandeling zonder contract op "
        "de triagefilterlijst; verwijs naar de eigen arts (SO/AVG) van de instelling. "
        "`unknown`: geen bijzonderheden; gewone triage. Ingeschreven (ION) patiënten van "
        "locaties zonder behandeling worden nooit door deze lijst geweigerd."
    ),
    # The URL names join the triage app's namespace (``triage:api_verdict``), see urls.py.
    urls_namespace="triage",
    docs_url=None,
    openapi_url="/openapi.json",
    # Every operation needs the token (each says so too); the description itself is public.
    openapi_extra={"security": [{"BearerAuth": []}]},
)


# --- Refusals ---------------------------------------------------------------------------------


class Refused(Exception):
    """An answer prepared before the operation ran (401, 429, 400): the handler sends it."""

    def __init__(self, response: HttpResponse):
        super().__init__(response.status_code)
        self.response = response


class BadFields(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


@api.exception_handler(Refused)
def _refused(request, exc: Refused):
    return exc.response


@api.exception_handler(BadFields)
def _bad_fields(request, exc: BadFields):
    return JsonResponse({"errors": exc.errors}, status=400)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    """What pydantic refuses after our own checks passed (it should not): still 400, named."""
    fields = {str(error["loc"][-1]) for error in exc.errors if error.get("loc")}
    return JsonResponse(
        {"errors": dict.fromkeys(sorted(fields) or ["request"], "Deze waarde is onjuist.")},
        status=400,
    )


def _over_limit(request: HttpRequest, *, group: str, key: str, rate: str) -> JsonResponse | None:
    """Count this request against ``key``'s limit; the 429 answer once it is over."""
    try:
        usage = get_usage(
            request, group=group, key=lambda _group, _request: key, rate=rate, increment=True
        )
    except Exception:  # each cache backend raises its own errors when its server is away
        usage = NOT_COUNTED
    if usage is None:  # rate limiting is switched off (RATELIMIT_ENABLE)
        return None
    if usage["limit"] == 0:  # how django-ratelimit says the cache did not count
        logger.warning("Triage API rate limit not counted: the cache did not answer.")
        return None
    if not usage["should_limit"]:
        return None
    retry_after = max(1, usage["time_left"])
    response = JsonResponse(
        {
            "error": "rate_limited",
            "detail": f"Te veel verzoeken; probeer het over {retry_after} seconden opnieuw.",
        },
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def _unauthorised(error: str, description: str) -> JsonResponse:
    response = JsonResponse({"error": error, "detail": description}, status=401)
    challenge = 'Bearer realm="triage"'
    if error == "invalid_token":
        challenge += ', error="invalid_token"'
    response["WWW-Authenticate"] = challenge
    return response


def authenticate(request: HttpRequest) -> dict:
    """The client behind the bearer token, its use noted and counted against its rate limit;
    else ``Refused`` (401, or 429 over a limit). Every operation runs this (``BearerAuth``),
    and so do the benchmark's floor views."""
    authorization = request.META.get("HTTP_AUTHORIZATION")
    if not authorization:
        raise Refused(
            _unauthorised("unauthorized", "Geef een token mee: Authorization: Bearer <token>.")
        )
    match = _BEARER_RE.match(authorization)
    client = triage_api_client_for_token(match.group(1)) if match else None
    if client is None:
        # Wrong tokens are slowed per address. A valid token is never refused for them: a
        # misconfigured system behind the same address must not stop triage.
        limited = _over_limit(
            request,
            group="triage-api-bad-token",
            key=get_client_ip_address(request) or "unknown",
            rate=settings.TRIAGE_API_BAD_TOKEN_RATE,
        )
        raise Refused(
            limited or _unauthorised("invalid_token", "Dit token is onbekend of ingetrokken.")
        )
    triage_api_client_record_use(client)
    limited = _over_limit(
        request, group="triage-api", key=str(client["pk"]), rate=settings.TRIAGE_API_RATE
    )
    if limited is not None:
        raise Refused(limited)
    return client


class BearerAuth(HttpAuthBase):
    """The client behind the bearer token, counted against its rate limit; else a refusal."""

    openapi_scheme = "bearer"
    openapi_description = "Een token per systeem, gemaakt met `manage.py create_triage_client`."

    def __call__(self, request: HttpRequest) -> dict:
        return authenticate(request)


# --- Schemas of the description -------------------------------------------------------------


class Error(Schema):
    error: str
    detail: str


class FieldErrors(Schema):
    errors: dict[str, str] = Field(description="Per onjuist veld de reden, in het Nederlands.")


class AddressQuery(BaseModel):
    """The address asked about; checked by ``check_triage_parameters`` before pydantic sees it,
    so the messages are ours and every bad field is named at once."""

    postcode: str = Field(
        description="Vier cijfers (niet met 0 vooraan), hooguit één spatie, twee letters in "
        "hoofd- of kleine letters (niet SA, SD of SS).",
        pattern=POSTCODE_PATTERN,
        examples=["8011 AB", "8011ab"],
    )
    house_number: int = Field(ge=1, le=HOUSE_NUMBER_MAX)
    addition: str = Field(
        "",
        description="Huisnummertoevoeging; hoofdletters maken niet uit.",
        max_length=6,
        pattern=HOUSE_NUMBER_ADDITION_PATTERN,
        examples=["A", "2-bis"],
    )

    @model_validator(mode="before")
    @classmethod
    def _checked_as_published(cls, data):
        values, errors = check_triage_parameters(data)
        if errors:
            raise BadFields(errors)
        return values


class Verdict(Schema):
    verdict: TriageVerdict
    label: str = Field(description="Het oordeel in het Nederlands.")
    postcode: str = Field(pattern=PUBLISHED_POSTCODE_PATTERN, examples=["8011 AB"])
    house_number: int = Field(ge=1, le=HOUSE_NUMBER_MAX)
    addition: str = Field(pattern=PUBLISHED_ADDITION_PATTERN, examples=["A", ""])


def check_triage_parameters(params) -> tuple[dict, dict]:
    """The query's fields, normalised, and an error per bad field (in Dutch)."""
    errors, values = {}, {}
    postcode = params.get("postcode", "")
    if not postcode:
        errors["postcode"] = "Verplicht: een postcode zoals 8011 AB."
    elif not matches(POSTCODE_PATTERN, postcode):
        errors["postcode"] = (
            "Geef een Nederlandse postcode zoals 8011 AB of 8011ab: vier cijfers (niet met 0 "
            "vooraan), hooguit één spatie, twee letters (niet SA, SD of SS)."
        )
    else:
        values["postcode"] = normalise_postcode(postcode)
    house_number = params.get("house_number", "")
    if not matches(HOUSE_NUMBER_PATTERN, house_number):
        errors["house_number"] = (
            f"Verplicht: een huisnummer van 1 tot en met {HOUSE_NUMBER_MAX}, alleen cijfers."
        )
    else:
        values["house_number"] = int(house_number)
    addition = params.get("addition", "")
    if not matches(HOUSE_NUMBER_ADDITION_PATTERN, addition):
        errors["addition"] = (
            "Een toevoeging heeft hooguit 6 letters, cijfers of streepjes, zoals A of 2-bis."
        )
    else:
        values["addition"] = normalise_house_number_addition(addition)
    return values, errors


def _refusals(too_many: str) -> dict:
    """The description of the refusals both operations share (their headers included)."""
    return {
        400: {"description": "Een of meer velden zijn onjuist."},
        401: {
            "description": "Geen, een onbekend of een ingetrokken token.",
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
        },
        429: {
            "description": too_many,
            "headers": {
                "Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}}
            },
        },
    }


REFUSALS = {400: FieldErrors, 401: Error, 429: Error}


@api.get(
    "/triage/verdict",
    auth=BearerAuth(),
    response={200: Verdict, **REFUSALS},
    operation_id="getTriageVerdict",
    summary="Het triage-oordeel voor een adres",
    url_name="api_verdict",
    openapi_extra={
        "responses": {
            200: {"description": "Het oordeel."},
            **_refusals(
                "Te veel verzoeken van dit systeem (of te veel onjuiste tokens van dit adres); "
                "probeer het na Retry-After seconden opnieuw."
            ),
        }
    },
)
def triage_verdict_view(request: HttpRequest, address: Query[AddressQuery]):
    """One indexed query for the verdict (kept per address by the services), one insert in the
    access log: each lookup is there under the client's name, with the address and the answer
    given."""
    verdict = triage_verdict_at(
        postcode=address.postcode,
        house_number=address.house_number,
        addition=address.addition,
        day=timezone.localdate(),
    )
    access_log_record_api_read(
        client=request.auth["name"],
        what=gettext("triage verdict for %(address)s: %(verdict)s")
        % {"address": _address(address), "verdict": verdict},
    )
    response = JsonResponse(
        {
            "verdict": verdict,
            "label": verdict_label(verdict),
            "postcode": address.postcode,
            "house_number": address.house_number,
            "addition": address.addition,
        }
    )
    # What add_never_cache_headers writes, without parsing the header it has just made.
    response["Expires"] = http_date()
    response["Cache-Control"] = NEVER_CACHE
    return response


NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def _address(address: AddressQuery) -> str:
    number = (
        f"{address.house_number}-{address.addition}" if address.addition else address.house_number
    )
    return f"{address.postcode} {number}"


@functools.cache
def verdict_label(verdict: str) -> str:
    """The verdict's label in Dutch, whatever the request's language."""
    with translation.override("nl"):
        return str(TriageVerdict(verdict).label)


# --- The feed ---------------------------------------------------------------------------------


class FeedQuery(BaseModel):
    """``changed_since`` or ``on`` (or neither: the whole list now); checked before pydantic
    sees them, as the address is."""

    changed_since: int = Field(
        None,
        ge=0,
        le=VERSION_MAX,
        description="Alleen de wijzigingen na deze versie (de `version` van een eerder "
        "antwoord). Niet samen met `on`.",
    )
    on: datetime.date = Field(
        None,
        description="De lijst zoals die was op deze dag (JJJJ-MM-DD), bijvoorbeeld voor een "
        "klachtonderzoek. Niet samen met `changed_since`.",
    )

    @model_validator(mode="before")
    @classmethod
    def _checked_as_published(cls, data):
        values, errors = check_feed_parameters(data)
        if errors:
            raise BadFields(errors)
        return values


def check_feed_parameters(params) -> tuple[dict, dict]:
    """The feed's fields (``changed_since`` a version, ``on`` a date) and their errors."""
    errors, values = {}, {}
    changed_since = params.get("changed_since")
    if changed_since is not None:
        if matches(VERSION_PATTERN, changed_since) and int(changed_since) <= VERSION_MAX:
            values["changed_since"] = int(changed_since)
        else:
            errors["changed_since"] = (
                "Geef een versie: een geheel getal van 0 of meer, de `version` van een eerder "
                "antwoord."
            )
    on = params.get("on")
    if on is not None:
        try:
            if not matches(DATE_PATTERN, on):
                raise ValueError(on)
            values["on"] = datetime.date.fromisoformat(on)
        except ValueError:
            errors["on"] = "Geef een bestaande datum als JJJJ-MM-DD, zoals 2026-03-01."
    if changed_since is not None and on is not None and not errors:
        errors["changed_since"] = errors["on"] = "Geef changed_since of on, niet allebei."
    return values, errors


class FeedEntry(Schema):
    entry: int = Field(description="Het nummer van de vermelding: blijft gelijk tot ze vervalt.")
    postcode: str = Field(pattern=PUBLISHED_POSTCODE_PATTERN, examples=["8011 AB"])
    house_number: int = Field(ge=1, le=HOUSE_NUMBER_MAX)
    addition: str = Field(pattern=PUBLISHED_ADDITION_PATTERN, examples=["A", ""])
    reason: TriageFilterReason
    listed_on: datetime.date = Field(description="Op de lijst sinds.")


class FeedList(Schema):
    version: int = Field(ge=0, description="De versie van de lijst; vraag later `changed_since`.")
    on: datetime.date | None = Field(description="De gevraagde dag, of null: de lijst nu.")
    entries: list[FeedEntry]


class FeedChange(Schema):
    version: int = Field(ge=1, description="De versie die deze wijziging maakte.")
    change: TriageListChangeKind
    entry: int
    postcode: str = Field(pattern=PUBLISHED_POSTCODE_PATTERN, examples=["8011 AB"])
    house_number: int = Field(ge=1, le=HOUSE_NUMBER_MAX)
    addition: str = Field(pattern=PUBLISHED_ADDITION_PATTERN, examples=["A", ""])
    reason: TriageFilterReason = Field(description="Waarom het adres op de lijst kwam.")
    date: datetime.date = Field(description="Op de lijst sinds, of eraf sinds.")
    removed_because: str = Field(description="Bij `removed`: waarom; anders leeg.")
    recorded_at: datetime.datetime


class FeedChanges(Schema):
    version: int = Field(ge=0, description="De versie van de lijst na deze wijzigingen.")
    changed_since: int = Field(ge=0)
    changes: list[FeedChange]


ETAG_HEADER = {"ETag": {"required": True, "schema": {"type": "string"}}}


def _etag(version: int) -> str:
    return f'"{version}"'


def _not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether the client's ``If-None-Match`` names the current ETag (weakly compared)."""
    if not if_none_match:
        return False
    tags = [tag.removeprefix("W/") for tag in parse_etags(if_none_match)]
    return "*" in tags or etag in tags


def _feed_response(status: int, etag: str, body: bytes | None = None) -> HttpResponse:
    if body is None:
        response = HttpResponse(status=status)
    else:
        response = HttpResponse(body, content_type="application/json", status=status)
    response["ETag"] = etag
    # Kept by the client, asked again with If-None-Match; never stored by a shared cache.
    response["Cache-Control"] = "private, no-cache"
    return response


def _entry(row: dict) -> dict:
    return {
        "entry": row["entry_id"],
        "postcode": row["postcode"],
        "house_number": row["house_number"],
        "addition": row["addition"],
        "reason": row["reason"],
        "listed_on": row["listed_on"],
    }


def _change(row: dict) -> dict:
    return {
        "version": row["version"],
        "change": row["kind"],
        "entry": row["entry_id"],
        "postcode": row["postcode"],
        "house_number": row["house_number"],
        "addition": row["addition"],
        "reason": row["reason"],
        "date": row["on"],
        "removed_because": row["removed_because"],
        "recorded_at": row["recorded_at"],
    }


@api.get(
    "/triage/addresses",
    auth=BearerAuth(),
    response={200: FeedList | FeedChanges, 304: None, **REFUSALS},
    operation_id="getTriageFilterList",
    summary="De triagefilterlijst, haar wijzigingen, of de lijst op een dag",
    description=(
        "Zonder parameters: de hele lijst met haar `version`. Met `changed_since`: alleen wat "
        "daarna op de lijst kwam (`added`) of eraf ging (`removed`), in volgorde. Met `on`: de "
        "lijst zoals die op die dag was. Het antwoord draagt een ETag; stuur die mee als "
        "If-None-Match en het antwoord is 304 zolang de lijst niet veranderde. Een versie die "
        "nog niet bestaat geeft 400: haal dan de hele lijst opnieuw op."
    ),
    url_name="api_addresses",
    openapi_extra={
        "responses": {
            200: {"description": "De lijst, of haar wijzigingen.", "headers": ETAG_HEADER},
            304: {"description": "De lijst is niet veranderd.", "headers": ETAG_HEADER},
            **_refusals("Te veel verzoeken; probeer het na Retry-After seconden opnieuw."),
        }
    },
)
def triage_addresses_view(
    request: HttpRequest,
    feed: Query[FeedQuery],
    if_none_match: str = Header(
        None,
        alias="If-None-Match",
        description="De ETag van een eerder antwoord op dezelfde vraag.",
    ),
):
    """The feed: a constant number of queries, however long the list. Each read is in the access
    log under the client's name; a sync (the list now or its changes) is noted on the client."""
    client = request.auth
    version = triage_list_version()
    if feed.changed_since is not None and feed.changed_since > version:
        raise BadFields(
            {
                "changed_since": f"Versie {feed.changed_since} bestaat niet: de lijst is bij "
                f"versie {version}. Haal de hele lijst opnieuw op."
            }
        )
    etag = _etag(version)
    body = None if _not_modified(if_none_match, etag) else _feed_body_json(feed, version)
    what = _feed_read(feed, version)
    if body is None:
        what = gettext("%(what)s: not changed") % {"what": what}
    # A look at a past day is an investigation, not a sync.
    if feed.on is None and triage_api_client_sync_due(client, version=version):
        with transaction.atomic():  # one commit for the log and the sync
            access_log_record_api_read(client=client["name"], what=what)
            triage_api_client_record_sync(client, version=version)
    else:
        access_log_record_api_read(client=client["name"], what=what)
    return _feed_response(200 if body is not None else 304, etag, body)


# The answers this process wrote last, by question and version. The list's changes are never
# changed nor deleted, so an answer at a version stays true; only the question's own version
# (the ETag) and the access log differ between two reads of it.
FEED_ANSWERS_KEPT = 32
_feed_answers: collections.OrderedDict[tuple, bytes] = collections.OrderedDict()
_feed_answers_lock = threading.Lock()  # a process's threads share them (gthread)


def forget_feed_answers() -> None:
    with _feed_answers_lock:
        _feed_answers.clear()


def _feed_body_json(feed: FeedQuery, version: int) -> bytes:
    key = (version, feed.changed_since, feed.on)
    with _feed_answers_lock:
        body = _feed_answers.get(key)
        if body is not None:
            _feed_answers.move_to_end(key)
            return body
    # Written outside the lock: two threads may write the same answer once each.
    body = json.dumps(_feed_body(feed, version), cls=DjangoJSONEncoder).encode()
    with _feed_answers_lock:
        _feed_answers[key] = body
        if len(_feed_answers) > FEED_ANSWERS_KEPT:
            _feed_answers.popitem(last=False)
    return body


def _feed_body(feed: FeedQuery, version: int) -> dict:
    """The answer at ``version``: the list on a day, the changes since a version, or the list."""
    if feed.on is not None:
        entries = triage_list_on(feed.on, version=version)
        return {"version": version, "on": feed.on, "entries": [_entry(e) for e in entries]}
    if feed.changed_since is not None:
        changes = triage_list_changes(after=feed.changed_since, up_to=version)
        return {
            "version": version,
            "changed_since": feed.changed_since,
            "changes": [_change(c) for c in changes],
        }
    entries = triage_list_at_version(version)
    return {"version": version, "on": None, "entries": [_entry(e) for e in entries]}


def _feed_read(feed: FeedQuery, version: int) -> str:
    """What the access log says was read."""
    if feed.on is not None:
        return gettext("triage filter list on %(day)s (version %(version)s)") % {
            "day": feed.on.isoformat(),
            "version": version,
        }
    if feed.changed_since is not None:
        return gettext("triage filter list: changes after version %(since)s up to %(version)s") % {
            "since": feed.changed_since,
            "version": version,
        }
    return gettext("triage filter list, version %(version)s") % {"version": version}


def openapi_document() -> dict:
    """The description as ``/api/v1/openapi.json`` serves it."""
    return api.get_openapi_schema()
