"""Building blocks for the OpenAPI 3.1 documents both services serve at ``GET /openapi.json``.

Schemas are JSON Schema 2020-12 (what OpenAPI 3.1 uses). Answers list the fields the contract
promises as required; services may add fields (``additionalProperties`` stays open).
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
    }


ERROR = obj({"error": obj({"code": STR, "message": STR})})
# One event of either service's journal (GET /_emulator/events); the kind decides the other fields.
JOURNAL_EVENT = obj(
    {"cursor": STR, "at": TIME, "kind": STR, "noted_at": TIME, "token": STR, "token_bytes": INT},
    optional=("noted_at", "token", "token_bytes"),
)


def op(
    summary: str,
    answers: dict[int, Schema | str | None],
    *,
    body: Schema | None = None,
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
    if query:
        operation["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": schema} for name, schema in query.items()
        ]
    if auth:
        operation["security"] = [{"bearer": []}]
    return operation


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
            "schemas": {"Error": ERROR, **schemas},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def serve(spec: dict[str, Any]) -> web.RouteDef:
    async def get_openapi(request: web.Request) -> web.Response:
        return json_response(spec)

    return web.get("/openapi.json", get_openapi)
