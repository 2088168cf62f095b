"""The cloud's OpenAPI 3.1 document (``GET /openapi.json``); the emulator routes only with --emulator-api."""

import functools
from typing import Any

from aiohttp import web

from flex_emulator.shared.openapi import (
    ANY_OBJECT,
    BOOL,
    HISTORY_EVENT,
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

SCHEMAS = {
    "JournalEvent": JOURNAL_EVENT,
    "Membership": obj({"id": STR, "name": STR, "role": enum("admin", "operator")}),
    "Member": obj({"user_id": STR, "email": STR, "role": enum("admin", "operator")}),
    "Invitation": obj(
        {
            "id": STR,
            "account": obj({"id": STR, "name": STR}),
            "email": STR,
            "role": enum("admin", "operator"),
            "invited_by": STR,
            "created_at": TIME,
        }
    ),
    "Subscription": obj(
        {
            "id": STR,
            "order_id": STR,
            "duration": enum("monthly", "annual"),
            "state": STR,
            "selectable": BOOL,
            "credits_total": NUM,
            "credits_available": NUM,
            "created_at": TIME,
            "term_start": nullable(TIME),
            "term_end": nullable(TIME),
            "cancelled_at": nullable(TIME),
        }
    ),
    "System": obj(
        {
            "id": STR,
            "label": STR,
            "online": BOOL,
            "last_seen": nullable(TIME),
            "linked_at": TIME,
            "seq": INT,
            "credits_assigned": NUM,
            "home_usage": obj({"credits_in_use": NUM, "reported_at": TIME}),
        },
        optional=("credits_assigned", "home_usage"),
    ),
    "Assignment": obj(
        {
            "id": STR,
            "system_id": STR,
            "credits": NUM,
            "assigned_at": TIME,
            "valid_until": nullable(TIME),
            "auto_revoke_at": nullable(TIME),
            "downloaded": BOOL,
            "state": enum("active", "revoke_pending", "ended"),
            "end_reason": nullable(STR),
            "ended_at": nullable(TIME),
            "returns_at": nullable(TIME),
            "subscription": obj({"id": STR, "order_id": STR, "duration": enum("monthly", "annual"), "state": STR}),
        }
    ),
    "Event": HISTORY_EVENT,
    "HomeAddress": obj({"system_id": STR, "url": nullable(STR), "source": nullable(enum("link", "told"))}),
    "InspectorItem": obj(
        {
            "id": STR,
            "lane": enum("cloud", "home"),
            "kind": STR,
            "at": TIME,
            "noted_at": nullable(TIME),
            "title": STR,
            "detail": nullable(STR),
            "crossing": nullable(enum("to_home", "to_cloud")),
            "by_hand": BOOL,
            "tone": enum("info", "ok", "refused", "fault", "time"),
            "seq": nullable(INT),
            "token_bytes": nullable(INT),
            "token": nullable(
                obj(
                    {
                        "compact": STR,
                        "header": ANY_OBJECT,
                        "claims": ANY_OBJECT,
                        "signature": obj({"verified": BOOL, "key": nullable(STR), "note": STR}),
                    },
                    optional=("header", "claims"),
                )
            ),
        }
    ),
    "InspectorStatus": obj(
        {
            "system": obj({"id": STR, "label": STR, "online": BOOL, "seq": INT, "acked_seq": INT}),
            "faults": ANY_OBJECT,
            "cloud_clock": obj({"now": TIME, "virtual": BOOL}),
            "home": obj(
                {
                    "url": nullable(STR),
                    "source": nullable(STR),
                    "reachable": BOOL,
                    "problem": nullable(STR),
                    "label": STR,
                    "link": ANY_OBJECT,
                    "clock": ANY_OBJECT,
                },
                optional=("label", "link", "clock"),
            ),
        }
    ),
    "Clock": obj({"now": TIME, "virtual": BOOL, "handled": INT}, optional=("handled",)),
    "State": obj(
        {
            "format": enum("flex-emulator/state"),
            "version": INT,
            "service": STR,
            "schema_version": INT,
            "now": TIME,
            "keys": obj({"cloud_key": STR}),
            "tables": ANY_OBJECT,
        }
    ),
    "LinkFaults": obj(
        {
            "system_id": STR,
            "faults": obj(
                {
                    "cut": BOOL,
                    "latency_ms": INT,
                    "drop_next": array(enum("snapshot", "receipt")),
                    "duplicate_next": array(enum("snapshot", "receipt")),
                    "active": BOOL,
                }
            ),
        }
    ),
}

ACC = "/api/v1/accounts/{acc}"
SYS = ACC + "/systems/{sys}"
SIGN_IN = obj({"token": STR, "accounts": array(ref("Membership"))})
SUBSCRIPTION = obj({"subscription": ref("Subscription")})
NEW_SUBSCRIPTION = obj(
    {
        "duration": enum("monthly", "annual"),
        "credits": {"type": ["number", "string"]},
        "state": enum("inactive", "active"),
        "order_id": STR,
    },
    optional=("state", "order_id"),
)
ASSIGNMENT = obj({"assignment": ref("Assignment")})
INVITATION = obj({"invitation": ref("Invitation")})
INVITE = obj({"email": STR, "role": enum("admin", "operator"), "password": STR}, optional=("password",))

PATHS: dict[str, dict[str, Any]] = {
    "/healthz": {"get": op("Ready", {200: obj({"status": enum("ok")})})},
    "/.well-known/jwks.json": {
        "get": op("The cloud's public signing keys (JWK Set)", {200: obj({"keys": array(ANY_OBJECT)})})
    },
    "/api/v1/auth/token": {"post": op("Sign in", {200: SIGN_IN}, body=obj({"email": STR, "password": STR}))},
    "/api/v1/auth/logout": {"post": op("Sign out", {200: obj({"signed_out": BOOL})}, auth=True)},
    "/api/v1/accounts": {
        "get": op("The caller's accounts", {200: obj({"accounts": array(ref("Membership"))})}, auth=True)
    },
    ACC + "/users": {
        "get": op("Members (admin)", {200: obj({"users": array(ref("Member"))})}, auth=True),
        "post": op(
            "Invite a member (admin); the same as POST .../invitations", {202: INVITATION}, auth=True, body=INVITE
        ),
    },
    ACC + "/invitations": {
        "get": op(
            "Open invitations of the account (admin)", {200: obj({"invitations": array(ref("Invitation"))})}, auth=True
        ),
        "post": op(
            "Invite a member (admin): the same answer whether or not the email has a login; a password given "
            "signs in to this account only",
            {202: INVITATION},
            auth=True,
            body=INVITE,
        ),
    },
    ACC + "/invitations/{inv}": {
        "delete": op("Withdraw an invitation (admin)", {200: obj({"withdrawn": STR})}, auth=True)
    },
    "/api/v1/invitations": {
        "get": op("Invitations to the signed-in user", {200: obj({"invitations": array(ref("Invitation"))})}, auth=True)
    },
    "/api/v1/invitations/{inv}/accept": {
        "post": op("Accept: join the account", {200: obj({"account": ref("Membership")})}, auth=True)
    },
    "/api/v1/invitations/{inv}/decline": {"post": op("Decline", {200: obj({"declined": STR})}, auth=True)},
    ACC + "/users/{user_id}": {"delete": op("Remove a member (admin)", {200: obj({"removed": STR})}, auth=True)},
    ACC + "/history": {
        "get": op(
            "The account's ledger",
            {200: obj({"events": array(ref("Event"))})},
            query={"limit": INT, "before": INT, "system": STR, "kind": STR},
            auth=True,
        )
    },
    ACC + "/subscriptions": {
        "get": op("Subscriptions", {200: obj({"subscriptions": array(ref("Subscription"))})}, auth=True)
    },
    ACC + "/subscriptions/{sub}/activate": {"post": op("Activate (admin)", {200: SUBSCRIPTION}, auth=True)},
    ACC + "/subscriptions/{sub}/cancel": {"post": op("Cancel (admin)", {200: SUBSCRIPTION}, auth=True)},
    ACC + "/systems": {
        "get": op("Systems", {200: obj({"systems": array(ref("System"))})}, auth=True),
        "post": op(
            "Link a system (admin)",
            {201: obj({"system": ref("System")})},
            auth=True,
            body=obj({"registration_code": STR, "label": STR}, optional=("label",)),
        ),
    },
    SYS: {
        "get": op(
            "A system and its assignments",
            {200: obj({"system": ref("System"), "assignments": array(ref("Assignment"))})},
            auth=True,
        ),
        "delete": op("Unlink a system (admin)", {200: obj({"unlinked": STR})}, auth=True),
    },
    SYS + "/assignments": {
        "post": op(
            "Assign credits",
            {201: ASSIGNMENT},
            auth=True,
            body=obj(
                {"subscription_id": STR, "credits": {"type": ["number", "string"]}, "auto_revoke_at": TIME},
                optional=("auto_revoke_at",),
            ),
        ),
    },
    SYS + "/assignments/{id}/revoke": {
        "post": op(
            "Revoke",
            {
                200: obj(
                    {"assignment": ref("Assignment"), "steps": array(STR), "returns_at": nullable(TIME)},
                    optional=("steps", "returns_at"),
                )
            },
            body=obj({"confirm": enum("confirm")}),
            auth=True,
        )
    },
    SYS + "/credits-file": {
        "post": op(
            "Download the credits file (with --emulator-api, ?fault= gives a bad one)",
            {200: "application/jwt"},
            query={
                "fault": enum(
                    "expired", "future", "stale", "tampered", "wrong_system", "alg_none", "untrusted_key", "truncated"
                )
            },
            auth=True,
        ),
    },
    SYS + "/revoke-keys": {
        "post": op(
            "Enter a revoke key",
            {200: obj({"returned": array(STR), "credits_returned": NUM})},
            body=obj({"revoke_key": STR}),
            auth=True,
        ),
    },
}

EMULATOR_PATHS: dict[str, dict[str, Any]] = {
    "/_emulator/accounts": {
        "post": op(
            "Create an account and its admin; an email that has a login needs its own password (409 email_taken)",
            {
                201: obj(
                    {
                        "account": obj({"id": STR, "name": STR}),
                        "token": STR,
                        "subscriptions": array(ref("Subscription")),
                    },
                    optional=("subscriptions",),
                )
            },
            tag="emulator",
            body=obj(
                {
                    "name": STR,
                    "admin": obj({"email": STR, "password": STR}),
                    "subscriptions": array(NEW_SUBSCRIPTION),
                },
                optional=("subscriptions",),
            ),
        ),
    },
    "/_emulator/accounts/{acc}/users": {
        "post": op(
            "Add a user",
            {201: obj({"account_id": STR, "email": STR, "role": STR})},
            tag="emulator",
            body=obj({"email": STR, "password": STR, "role": enum("admin", "operator")}),
        ),
    },
    "/_emulator/accounts/{acc}/subscriptions": {
        "post": op(
            "Create a subscription",
            {201: SUBSCRIPTION},
            tag="emulator",
            body=NEW_SUBSCRIPTION,
        ),
    },
    "/_emulator/systems/{sys}/perpetual-licenses": {
        "post": op(
            "A signed perpetual license file",
            {200: "application/jwt"},
            tag="emulator",
            body=obj({"license_type": STR, "count": INT}),
        ),
    },
    "/_emulator/clock": {
        "get": op("The clock", {200: ref("Clock")}, tag="emulator"),
        "post": op(
            "Move a virtual clock, running what falls due",
            {200: ref("Clock")},
            tag="emulator",
            body=obj({"advance_seconds": NUM, "now": TIME}, optional=("advance_seconds", "now")),
        ),
    },
    "/_emulator/invariant": {
        "get": op("Balances re-derived", {200: obj({"ok": BOOL, "violations": array(ANY_OBJECT)})}, tag="emulator")
    },
    "/_emulator/reset": {
        "post": op(
            "Forget everything but the keys",
            {200: obj({"reset": BOOL, "now": TIME})},
            tag="emulator",
            body=obj({"now": TIME}, optional=("now",)),
        ),
    },
    "/_emulator/state": {
        "get": op("Dump the whole state", {200: ref("State")}, tag="emulator"),
        "put": op(
            "Restore a dumped state", {200: obj({"restored": BOOL, "now": TIME})}, body=ref("State"), tag="emulator"
        ),
    },
    "/_emulator/systems/{sys}/settled": {
        "get": op(
            "Wait until HOME acknowledged the latest copy",
            {200: obj({"system_id": STR, "seq": INT, "acked_seq": INT, "online": BOOL})},
            query={"timeout": NUM, "advance": enum("true", "false")},
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
    "/_emulator/systems/{sys}/link-faults": {
        "get": op("Faults on a system's link", {200: ref("LinkFaults")}, tag="emulator"),
        "post": op(
            "Set faults on a system's link",
            {200: ref("LinkFaults")},
            tag="emulator",
            body=obj(
                {
                    "cut": BOOL,
                    "latency_ms": INT,
                    "drop_next": enum("snapshot", "receipt"),
                    "duplicate_next": enum("snapshot", "receipt"),
                    "clear": BOOL,
                },
                optional=("cut", "latency_ms", "drop_next", "duplicate_next", "clear"),
            ),
        ),
    },
    "/_emulator/inspector": {
        "get": op(
            "The inspector page: one system's live timeline and demo controls (without system: the systems)",
            {200: "text/html"},
            query={"system": STR},
            tag="emulator",
        ),
    },
    "/_emulator/inspector/stream": {
        "get": op(
            "The inspector's live feed (Server-Sent Events: item and status messages; Last-Event-ID resumes)",
            {200: "text/event-stream"},
            query={"system": STR},
            tag="emulator",
        ),
    },
    "/_emulator/inspector/timeline": {
        "get": op(
            "One system's timeline of both journals, in order",
            {
                200: obj(
                    {
                        "system_id": STR,
                        "items": array(ref("InspectorItem")),
                        "status": ref("InspectorStatus"),
                        "next": STR,
                    }
                )
            },
            query={"system": STR, "after": STR},
            tag="emulator",
        ),
    },
    "/_emulator/systems/{sys}/home-address": {
        "get": op("Where the inspector reads this system's HOME", {200: ref("HomeAddress")}, tag="emulator"),
        "put": op(
            "Tell the cloud where this system's HOME answers (loopback unless --inspector-host)",
            {200: ref("HomeAddress")},
            body=obj({"url": STR}),
            tag="emulator",
        ),
    },
    "/_emulator/systems/{sys}/cloud-link": {
        "put": op(
            "Switch the cloud link on HOME itself (through HOME's API)",
            {
                200: obj(
                    {
                        "system_id": STR,
                        "cloud": obj({"url": STR, "enabled": BOOL, "state": STR, "last_error": nullable(STR)}),
                    }
                )
            },
            body=obj({"enabled": BOOL}),
            tag="emulator",
        ),
    },
    "/_emulator/systems/{sys}/clock": {
        "post": op(
            "Move the virtual clock, then HOME's to the same time",
            {
                200: obj(
                    {
                        "cloud": ref("Clock"),
                        "home": obj({"moved": BOOL, "note": STR, "now": TIME}, optional=("now",)),
                    }
                )
            },
            body=obj({"advance_seconds": NUM}),
            tag="emulator",
        ),
    },
}


@functools.cache
def build(emulator_api: bool) -> dict[str, Any]:
    """The document (made once per configuration: it never changes while the process runs)."""
    paths = PATHS | (EMULATOR_PATHS | emulator_http_paths() if emulator_api else {})
    return document(
        "flex-emulator cloud",
        "The licensing cloud's JSON API (docs/contract.md). The link WebSocket is not described here.",
        paths,
        dict(SCHEMAS),
    )


def route(emulator_api: bool) -> web.RouteDef:
    """``GET /openapi.json``: the document for this configuration."""
    return serve(build(emulator_api))
