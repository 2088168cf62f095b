"""HOME's OpenAPI 3.1 document (``GET /openapi.json``); the emulator routes only with --emulator-api."""

import functools
from typing import Any

from aiohttp import web

from flex_emulator.shared.openapi import (
    BOOL,
    INT,
    JOURNAL_EVENT,
    NUM,
    STR,
    TIME,
    array,
    document,
    emulator_http_paths,
    enum,
    nullable,
    obj,
    op,
    ref,
    serve,
)

LINK_STATE = enum("online", "connecting", "offline", "disabled", "not_linked")
TOTALS = obj({"total": NUM, "in_use": NUM, "remaining": NUM, "shortfall": NUM})
SCHEMAS = {
    "JournalEvent": JOURNAL_EVENT,
    "CloudLink": obj(
        {
            "url": STR,
            "enabled": BOOL,
            "state": LINK_STATE,
            "last_error": nullable(STR),
        }
    ),
    "Entry": obj(
        {
            "assignment_id": STR,
            "credits": NUM,
            "assigned_at": TIME,
            "valid_until": TIME,
            "renewable_until": nullable(TIME),
            "subscription_id": STR,
            "order_id": STR,
            "duration": enum("monthly", "annual"),
            "subscription_state": STR,
            "renewal": enum("automatic", "by_file", "none"),
            "expired": BOOL,
        }
    ),
    "Resource": obj(
        {
            "id": INT,
            "name": STR,
            "license_type_needed": STR,
            "count": INT,
            "license_type": enum("default", "perpetual", "credits"),
            "status": enum("running", "stopped", "unlicensed"),
            "running": BOOL,
            "perpetual_in_use": INT,
            "credits_in_use": NUM,
            "created_at": TIME,
        }
    ),
    "Clock": obj({"now": TIME, "virtual": BOOL, "clock": TIME, "handled": INT}, optional=("clock", "handled")),
}

RESOURCE_CHANGE = obj({"resource": ref("Resource"), "message": STR}, optional=("message",))
UPLOAD = {
    "multipart/form-data": {
        "schema": obj({"file": {"type": "string", "contentMediaType": "application/octet-stream"}}),
        "encoding": {"file": {"contentType": "application/jwt, application/octet-stream, text/plain"}},
    },
    "application/jwt": {"schema": STR},
    "application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}},
}

PATHS: dict[str, dict[str, Any]] = {
    "/healthz": {"get": op("Ready", {200: obj({"status": enum("ok")})})},
    "/api/v1/system": {
        "get": op(
            "This system",
            {200: obj({"system_id": STR, "label": STR, "registration_code": STR, "cloud": ref("CloudLink")})},
        ),
    },
    "/api/v1/cloud-link": {"put": op("Switch the cloud link", {200: ref("CloudLink")}, body=obj({"enabled": BOOL}))},
    "/api/v1/file-licenses": {
        "post": op(
            "Upload a credits (.jwt) or license (.lic) file: multipart field 'file' or the raw body",
            {
                200: obj(
                    {
                        "kind": enum("credits", "perpetual"),
                        "result": enum("applied", "unchanged"),
                        "seq": INT,
                        "credits": TOTALS,
                        "revoke_key": nullable(STR),
                        "license": obj({"license_type": STR, "count": INT}),
                    },
                    optional=("license",),
                )
            },
            body_content=UPLOAD,
        ),
    },
    "/api/v1/licenses/credits": {
        "get": op(
            "Credits held",
            {
                200: obj(
                    {
                        "total": NUM,
                        "in_use": NUM,
                        "remaining": NUM,
                        "shortfall": NUM,
                        "now": TIME,
                        "seq": INT,
                        "revoke_key": nullable(STR),
                        "status": obj(
                            {
                                "state": enum("none", "valid", "renew_soon", "expired"),
                                "valid_until": nullable(TIME),
                                "message": STR,
                            }
                        ),
                        "entries": array(ref("Entry")),
                        "timeline": array(obj({"date": STR, "valid": NUM, "renewable": NUM})),
                    }
                )
            },
        ),
    },
    "/api/v1/licenses/perpetual": {
        "get": op(
            "Perpetual licenses",
            {200: obj({"licenses": array(obj({"license_type": STR, "total": INT, "in_use": INT, "remaining": INT}))})},
        ),
    },
    "/api/v1/resources": {
        "get": op("Resources", {200: obj({"resources": array(ref("Resource"))})}),
        "post": op(
            "Add a resource",
            {201: obj({"resource": ref("Resource")})},
            body=obj(
                {
                    "name": STR,
                    "license_type_needed": STR,
                    "count": INT,
                    "license_type": enum("default", "perpetual", "credits"),
                }
            ),
        ),
    },
    "/api/v1/resources/{id}": {"get": op("A resource", {200: obj({"resource": ref("Resource")})})},
    "/api/v1/resources/{id}/start": {"post": op("Start a resource", {200: RESOURCE_CHANGE})},
    "/api/v1/resources/{id}/stop": {"post": op("Stop a resource", {200: RESOURCE_CHANGE})},
}

EMULATOR_PATHS: dict[str, dict[str, Any]] = {
    "/_emulator/clock": {
        "get": op("The clock", {200: ref("Clock")}, tag="emulator"),
        "post": op(
            "Move a virtual clock",
            {200: ref("Clock")},
            tag="emulator",
            body=obj({"advance_seconds": NUM, "now": TIME}, optional=("advance_seconds", "now")),
        ),
    },
    "/_emulator/reset": {
        "post": op(
            "Forget every license and resource",
            {200: obj({"reset": BOOL, "system_id": STR})},
            tag="emulator",
            body=obj({"identity": BOOL}, optional=("identity",)),
        ),
    },
    "/_emulator/cloud-link": {
        "get": op(
            "The cloud link; with state, once it is in that state",
            {200: ref("CloudLink")},
            query={"state": LINK_STATE, "timeout": NUM},
            tag="emulator",
        ),
        "put": op(
            "Switch the cloud link; with state, answer once it is in that state",
            {200: ref("CloudLink")},
            body=obj({"enabled": BOOL}),
            query={"state": LINK_STATE, "timeout": NUM},
            tag="emulator",
        ),
    },
    "/_emulator/events": {
        "get": op(
            "The event journal",
            {200: obj({"events": array(ref("JournalEvent")), "next": nullable(STR)})},
            query={"after": STR, "limit": INT, "kind": array(STR)},
            tag="emulator",
        ),
    },
}


@functools.cache
def build(emulator_api: bool) -> dict[str, Any]:
    """The document (made once per configuration: it never changes while the process runs)."""
    paths = PATHS | (EMULATOR_PATHS | emulator_http_paths() if emulator_api else {})
    return document("flex-emulator HOME", "An emulated HOME node's JSON API (docs/contract.md).", paths, dict(SCHEMAS))


def route(emulator_api: bool) -> web.RouteDef:
    """``GET /openapi.json``: the document for this configuration."""
    return serve(build(emulator_api))
