"""The triage API (seed 004, 7.2): TPM asks "postcode + house number → verdict".

Authentication is a bearer token per client (``TriageApiClient``); only its SHA-256 is stored,
so a token is found by its hash in one indexed query. No session, no cookie, no CSRF: the API
only answers GET. The answer carries no patient data, only what the HAP does for the address.

A request costs two queries: the client, then the verdict. ``last_used_at`` is written at most
once a minute per client, so a busy client does not turn every lookup into a write.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hap_contracting.core.validators import (
    HOUSE_NUMBER_MAX,
    normalise_house_number,
    normalise_house_number_addition,
    normalise_postcode,
)

from .constants import TriageVerdict
from .selectors import triage_api_client_for_token, triage_verdict
from .services import triage_api_client_record_use

_BEARER_RE = re.compile(r"^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$", re.IGNORECASE)


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


def _check(params) -> tuple[dict, dict]:
    """The query's fields, normalised, and an error per bad field (in Dutch)."""
    errors, values = {}, {}
    with translation.override("nl"):
        postcode = params.get("postcode", "")
        if not postcode.strip():
            errors["postcode"] = "Verplicht: een postcode zoals 8011 AB."
        else:
            try:
                values["postcode"] = normalise_postcode(postcode)
            except ValidationError as error:
                errors["postcode"] = str(error.messages[0])
        try:
            values["house_number"] = normalise_house_number(params.get("house_number", ""))
        except ValidationError:
            errors["house_number"] = (
                f"Verplicht: een huisnummer van 1 tot en met {HOUSE_NUMBER_MAX}."
            )
        try:
            values["addition"] = normalise_house_number_addition(params.get("addition", ""))
        except ValidationError as error:
            errors["addition"] = str(error.messages[0])
    return values, errors


@require_GET
@never_cache
def triage_verdict_view(request: HttpRequest) -> JsonResponse:
    if not request.META.get("HTTP_AUTHORIZATION"):
        return _unauthorised("unauthorized", "Geef een token mee: Authorization: Bearer <token>.")
    if _authenticated_client(request) is None:
        return _unauthorised("invalid_token", "Dit token is onbekend of ingetrokken.")
    values, errors = _check(request.GET)
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
        "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Triage-filter ANW-zorg",
            "version": "1.0.0",
            "description": (
                "Wat de huisartsenpost doet bij een hulpvraag vanaf een adres (seed 004, 7.2). "
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
                        "postcode": {"type": "string", "examples": ["8011 AB"]},
                        "house_number": {"type": "integer", "minimum": 1, "maximum": 99999},
                        "addition": {"type": "string", "examples": ["A", ""]},
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
                            "schema": {"type": "string", "examples": ["8011 AB", "8011ab"]},
                        },
                        {
                            "name": "house_number",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 99999},
                        },
                        {
                            "name": "addition",
                            "in": "query",
                            "required": False,
                            "description": "Huisnummertoevoeging; hoofdletters maken niet uit.",
                            "schema": {"type": "string", "maxLength": 6},
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
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
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
