"""Building blocks for the OpenAPI 3.1 documents both services serve at ``GET /openapi.json``.

Schemas are JSON Schema 2020-12 (what OpenAPI 3.1 uses). Every object lists every field an answer may
carry (``additionalProperties: false``): the ones always present as required, the others as optional.
"""

from typing import Any

from aiohttp import web

from flex_emulator.shared.web import json_response

Schema = dict[str, Any]

STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
ANY_OBJECT: Schema = {"type": "object"}


def nullable(schema: Schema) -> Schema:
    kind = schema.get("type")
    if isinstance(kind, str):
        extra = {"enum": [*schema["enum"], None]} if "enum" in schema else {}
        return {**schema, "type": [kind, "null"], **extra}
    return {"anyOf": [schema, {"type": "null"}]}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def obj(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    """An object whose properties are all required except ``optional``."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


ERROR = obj({"error": obj({"code": STR, "message": STR})})
ANY: Schema = {}  # any JSON value
IDS = array(STR)
# The fields an event may carry besides cursor, at and kind: its kind decides which (docs/contract.md lists them
# kind by kind). A ledger row's (the cloud's history and journal), a link or clock fact's, a fault's, HOME's.
LEDGER_FIELDS: dict[str, Schema] = {
    "system_id": nullable(STR),
    "account_id": nullable(STR),
    "actor": nullable(STR),
    "subscription_id": nullable(STR),
    "assignment_id": nullable(STR),
    "credits": nullable(NUM),
    "seq": INT,
    "via": STR,
    "reason": STR,
    "assignments": IDS,
    "returned": IDS,
    "after_seq": INT,
    "auto_revoke_at": nullable(TIME),
    "label": STR,
    "order_id": STR,
    "duration": STR,
    "state": STR,
    "term_end": nullable(TIME),
    "usable_until": nullable(TIME),
    "email": STR,
    "role": STR,
}
EVENT_FIELDS: dict[str, Schema] = {
    **LEDGER_FIELDS,
    "noted_at": TIME,
    "token": STR,
    "token_bytes": INT,
    "home_seq": INT,
    "code": nullable(STR),
    "resent": BOOL,
    "faults": ANY_OBJECT,
    "message": STR,
    "fault": STR,
    "expected_code": STR,
    "from": TIME,
    "to": TIME,
    "fault_id": STR,
    "method": STR,
    "path": STR,
    "action": STR,
    "status": INT,
    "retry_after": INT,
    "latency_ms": INT,
    "remaining": nullable(INT),
    "file": STR,
    "result": STR,
    "source": STR,
    "entries": INT,
    "error": nullable(STR),
    "resource_id": INT,
    "name": STR,
    "licenses": INT,
    "identity": BOOL,
    "valid_until": TIME,
    "final": BOOL,
}
JOURNAL_EVENT = obj({"cursor": STR, "at": TIME, "kind": STR, **EVENT_FIELDS}, optional=tuple(EVENT_FIELDS))
HISTORY_EVENT = obj({"id": INT, "at": TIME, "kind": STR, **LEDGER_FIELDS}, optional=tuple(LEDGER_FIELDS))

HTTP_FAULT_ACTION = enum("status", "latency", "reset", "hang")
HTTP_METHOD = enum("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HTTP_FAULT = obj(
    {
        "id": STR,
        "method": nullable(HTTP_METHOD),
        "path": STR,
        "action": HTTP_FAULT_ACTION,
        "status": nullable(INT),
        "retry_after": nullable(INT),
        "latency_ms": nullable(INT),
        "times": nullable(INT),
        "remaining": nullable(INT),
    }
)
REQUEST_RECORD = obj(
    {
        "cursor": STR,
        "at": TIME,
        "method": STR,
        "path": STR,
        "query": {"type": "object", "additionalProperties": {"anyOf": [STR, array(STR)]}},
        "status": nullable(INT),
        "duration_ms": NUM,
        "headers": {"type": "object", "additionalProperties": STR},
        "json": ANY,
        "truncated": BOOL,
        "fault": obj({"id": STR, "action": HTTP_FAULT_ACTION}),
    },
    optional=("json", "truncated", "fault"),
)


def op(
    summary: str,
    answers: dict[int, Schema | str | None],
    *,
    body: Schema | None = None,
    body_content: dict[str, Any] | None = None,
    query: dict[str, Schema] | None = None,
    tag: str = "api",
    auth: bool = False,
) -> dict[str, Any]:
    """One operation: ``answers`` maps a status to a JSON schema, a media type (``"application/jwt"``) or None."""
    responses: dict[str, Any] = {}
    for status, answer in answers.items():
        if answer is None:
            responses[str(status)] = {"description": "no body"}
        elif isinstance(answer, str):
            responses[str(status)] = {"description": answer, "content": {answer: {"schema": STR}}}
        else:
            responses[str(status)] = {"description": summary, "content": {"application/json": {"schema": answer}}}
    responses["default"] = {"description": "an error", "content": {"application/json": {"schema": ref("Error")}}}
    operation: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if body_content is not None:
        operation["requestBody"] = {"required": True, "content": body_content}
    if query:
        operation["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": schema} for name, schema in query.items()
        ]
    if auth:
        operation["security"] = [{"bearer": []}]
    return operation


def emulator_http_paths() -> dict[str, dict[str, Any]]:
    """``/_emulator/http-faults`` and ``/_emulator/requests``, which both services have."""
    faults = obj({"faults": array(ref("HttpFault"))})
    spec = obj(
        {
            "method": HTTP_METHOD,
            "path": STR,
            "action": HTTP_FAULT_ACTION,
            "status": {"type": "integer", "minimum": 500, "maximum": 599},
            "retry_after": INT,
            "latency_ms": INT,
            "times": INT,
        },
        optional=("method", "status", "retry_after", "latency_ms", "times"),
    )
    return {
        "/_emulator/http-faults": {
            "get": op("HTTP faults armed on this service's API", {200: faults}, tag="emulator"),
            "post": op(
                "Arm a fault on requests of one method and path (exact, or a prefix ending in *), or clear them",
                {200: faults},
                tag="emulator",
                body=obj({"add": spec, "clear": BOOL}, optional=("add", "clear")),
            ),
        },
        "/_emulator/requests": {
            "get": op(
                "The request journal: every request answered, in the order they ended, secrets masked",
                {200: obj({"requests": array(ref("RequestRecord")), "next": STR})},
                query={"after": STR, "limit": INT, "path": STR, "method": STR},
                tag="emulator",
            ),
        },
    }


def document(
    title: str, description: str, paths: dict[str, dict[str, Any]], schemas: dict[str, Schema]
) -> dict[str, Any]:
    for path, operations in paths.items():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        if names:
            parameters = [{"name": name, "in": "path", "required": True, "schema": STR} for name in names]
            for operation in operations.values():
                operation["parameters"] = parameters + operation.get("parameters", [])
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1", "description": description},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR, "HttpFault": HTTP_FAULT, "RequestRecord": REQUEST_RECORD, **schemas},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def serve(spec: dict[str, Any]) -> web.RouteDef:
    async def get_openapi(request: web.Request) -> web.Response:
        return json_response(spec)

    return web.get("/openapi.json", get_openapi)
