"""The triage API: TPM asks "postcode + house number → verdict".

Authentication is a bearer token per client (``TriageApiClient``); only its SHA-256 is stored,
so a token is found by its hash in one indexed query. No session, no cookie, no CSRF: the API
only answers GET. The answer carries no patient data, only what the HAP does for the address.

A request costs two queries: the client, then the verdict. ``last_used_at`` is written at most
once a minute per client, so a busy client does not turn every lookup into a write.

Each client has its own rate limit (``TRIAGE_API_RATE``); requests with a wrong token are
limited per address (``TRIAGE_API_BAD_TOKEN_RATE``), so guessing tokens is slow (and hopeless:
a token has 256 random bits). Over a limit
the answer is 429 with Retry-After, the seconds until the window ends. The limits count in the
shared cache; when the cache is down the API answers anyway: a triage lookup during a call
matters more than the limit.

The parameters are checked exactly as the OpenAPI description below publishes them (one
pattern for each, from ``core.validators``): a client that follows the description is never
refused, and one that does not gets a 400 naming the field.
"""

from __future__ import annotations

import logging
import re

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_ratelimit.core import get_usage

from hap_contracting.core.validators import (
    HOUSE_NUMBER_ADDITION_PATTERN,
    HOUSE_NUMBER_MAX,
    HOUSE_NUMBER_PATTERN,
    POSTCODE_PATTERN,
    matches,
    normalise_house_number_addition,
    normalise_postcode,
)

from .constants import TriageVerdict
from .selectors import triage_api_client_for_token, triage_verdict
from .services import triage_api_client_record_use

logger = logging.getLogger(__name__)

NOT_COUNTED = {"limit": 0, "should_limit": False}
_BEARER_RE = re.compile(r"^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$", re.IGNORECASE)


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


def _authenticated_client(request: HttpRequest) -> dict | None:
    match = _BEARER_RE.match(request.META.get("HTTP_AUTHORIZATION", ""))
    if match is None:
        return None
    client = triage_api_client_for_token(match.group(1))
    if client is not None:
        triage_api_client_record_use(client)
    return client


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


@require_GET
@never_cache
def triage_verdict_view(request: HttpRequest) -> JsonResponse:
    if not request.META.get("HTTP_AUTHORIZATION"):
        return _unauthorised("unauthorized", "Geef een token mee: Authorization: Bearer <token>.")
    client = _authenticated_client(request)
    if client is None:
        # Wrong tokens are slowed per address. A valid token is never refused for them: a
        # misconfigured system behind the same address must not stop triage.
        limited = _over_limit(
            request,
            group="triage-api-bad-token",
            key=get_client_ip_address(request) or "unknown",
            rate=settings.TRIAGE_API_BAD_TOKEN_RATE,
        )
        return limited or _unauthorised("invalid_token", "Dit token is onbekend of ingetrokken.")
    limited = _over_limit(
        request, group="triage-api", key=str(client["pk"]), rate=settings.TRIAGE_API_RATE
    )
    if limited is not None:
        return limited
    values, errors = check_triage_parameters(request.GET)
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    verdict = triage_verdict(
        postcode=values["postcode"],
        house_number=values["house_number"],
        addition=values["addition"],
    )
    with translation.override("nl"):
        label = str(TriageVerdict(verdict).label)
    return JsonResponse({"verdict": str(verdict), "label": label, **values})


# --- OpenAPI description --------------------------------------------------------------------


def openapi_document(verdict_path: str) -> dict:
    error = {
        "type": "object",
        "required": ["error", "detail"],
        "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
    }
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Triage-filter ANW-zorg",
            "version": "1.0.0",
            "description": (
                "Wat de huisartsenpost doet bij een hulpvraag vanaf een adres. "
                "`contracted`: de locatie heeft een ANW-contract. "
                "`no_anw_care_without_agreement`: Wlz-locatie met behandeling zonder contract op "
                "de triagefilterlijst; verwijs naar de eigen arts (SO/AVG) van de instelling. "
                "`unknown`: geen bijzonderheden; gewone triage. Ingeschreven (ION) patiënten van "
                "locaties zonder behandeling worden nooit door deze lijst geweigerd."
            ),
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Een token per systeem, gemaakt met `manage.py "
                    "create_triage_client`.",
                }
            },
            "schemas": {
                "Verdict": {
                    "type": "object",
                    "required": ["verdict", "label", "postcode", "house_number", "addition"],
                    "properties": {
                        "verdict": {"type": "string", "enum": list(TriageVerdict.values)},
                        "label": {
                            "type": "string",
                            "description": "Het oordeel in het Nederlands.",
                        },
                        "postcode": {
                            "type": "string",
                            "pattern": r"^[1-9][0-9]{3} [A-Z]{2}$",
                            "examples": ["8011 AB"],
                        },
                        "house_number": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": HOUSE_NUMBER_MAX,
                        },
                        "addition": {
                            "type": "string",
                            "pattern": r"^[A-Z0-9-]{0,6}$",
                            "examples": ["A", ""],
                        },
                    },
                },
                "FieldErrors": {
                    "type": "object",
                    "required": ["errors"],
                    "properties": {
                        "errors": {
                            "type": "object",
                            "description": "Per onjuist veld de reden.",
                            "properties": {
                                "postcode": {"type": "string"},
                                "house_number": {"type": "string"},
                                "addition": {"type": "string"},
                            },
                        }
                    },
                },
                "Error": error,
            },
        },
        "security": [{"bearerAuth": []}],
        "paths": {
            verdict_path: {
                "get": {
                    "operationId": "getTriageVerdict",
                    "summary": "Het triage-oordeel voor een adres",
                    "parameters": [
                        {
                            "name": "postcode",
                            "in": "query",
                            "required": True,
                            "description": "Vier cijfers (niet met 0 vooraan), hooguit één "
                            "spatie, twee letters in hoofd- of kleine letters (niet SA, SD of SS).",
                            "schema": {
                                "type": "string",
                                "pattern": POSTCODE_PATTERN,
                                "examples": ["8011 AB", "8011ab"],
                            },
                        },
                        {
                            "name": "house_number",
                            "in": "query",
                            "required": True,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": HOUSE_NUMBER_MAX,
                            },
                        },
                        {
                            "name": "addition",
                            "in": "query",
                            "required": False,
                            "description": "Huisnummertoevoeging; hoofdletters maken niet uit.",
                            "schema": {
                                "type": "string",
                                "maxLength": 6,
                                "pattern": HOUSE_NUMBER_ADDITION_PATTERN,
                                "examples": ["A", "2-bis"],
                            },
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "Het oordeel.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Verdict"}
                                }
                            },
                        },
                        "400": {
                            "description": "Een of meer velden zijn onjuist.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/FieldErrors"}
                                }
                            },
                        },
                        "401": {
                            "description": "Geen, een onbekend of een ingetrokken token.",
                            "headers": {
                                "WWW-Authenticate": {"schema": {"type": "string"}},
                            },
                            "content": error_content,
                        },
                        "429": {
                            "description": "Te veel verzoeken van dit systeem (of te veel "
                            "onjuiste tokens van dit adres); probeer het na Retry-After seconden "
                            "opnieuw.",
                            "headers": {
                                "Retry-After": {
                                    "required": True,
                                    "schema": {"type": "integer", "minimum": 1},
                                },
                            },
                            "content": error_content,
                        },
                    },
                }
            }
        },
    }


@require_GET
def openapi_view(request: HttpRequest) -> JsonResponse:
    """The description is public: it says how to ask, not what the answers are."""
    return JsonResponse(openapi_document(reverse("triage:api_verdict")))
