"""HOME's JSON API (the HOME part of the contract): thin handlers over the domain modules."""

from typing import Any

from aiohttp import web

from flex_emulator.home.appkeys import CONFIG, LINK, NODE
from flex_emulator.home.domain import spending
from flex_emulator.home.domain.licensing import credits_report, perpetual_report
from flex_emulator.home.domain.models import LicenseSetting
from flex_emulator.home.web import shapes
from flex_emulator.home.web.resource_actions import start_or_stop
from flex_emulator.home.web.uploads import apply_upload, read_upload
from flex_emulator.shared.catalog import LICENSE_TYPES
from flex_emulator.shared.errors import BadRequest, NotFound
from flex_emulator.shared.web import json_response, read_json, require_bool, require_int, require_text, whole_number

routes = web.RouteTableDef()


def resource_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    number = whole_number(raw)
    if number is None:
        raise NotFound(f"There is no resource {raw}.")
    return number


def choice(body: dict[str, Any], name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    if body.get(name) is None and default is not None:
        return default
    value = require_text(body, name, max_length=100)
    if value not in allowed:
        raise BadRequest(f"The field {name!r} must be one of: {', '.join(allowed)}.", code="invalid_value")
    return value


@routes.get("/api/v1/system")
async def get_system(request: web.Request) -> web.Response:
    node = request.app[NODE]
    return json_response(
        {
            "system_id": node.system_id,
            "label": node.label,
            "registration_code": node.identity.registration_code(node.label),
            "cloud": request.app[LINK].view(),
        }
    )


@routes.put("/api/v1/cloud-link")
async def put_cloud_link(request: web.Request) -> web.Response:
    enabled = require_bool(await read_json(request), "enabled")
    link = request.app[LINK]
    await link.set_enabled(enabled)
    return json_response(link.view())


@routes.post("/api/v1/file-licenses")
async def post_file_license(request: web.Request) -> web.Response:
    node = request.app[NODE]
    upload = await read_upload(request, request.app[CONFIG].max_upload_bytes)
    link = request.app[LINK]
    applied = await apply_upload(node, link, upload.data)
    report = await credits_report(node, online=link.state == "online", link_on=link.enabled)
    return json_response(shapes.applied_json(applied, report))


@routes.get("/api/v1/licenses/credits")
async def get_credits(request: web.Request) -> web.Response:
    link = request.app[LINK]
    report = await credits_report(request.app[NODE], online=link.state == "online", link_on=link.enabled)
    return json_response(shapes.credits_json(report))


@routes.get("/api/v1/licenses/perpetual")
async def get_perpetual(request: web.Request) -> web.Response:
    return json_response(shapes.perpetual_json(await perpetual_report(request.app[NODE])))


@routes.get("/api/v1/resources")
async def get_resources(request: web.Request) -> web.Response:
    resources = await spending.list_resources(request.app[NODE])
    return json_response({"resources": [shapes.resource_json(r) for r in resources]})


@routes.post("/api/v1/resources")
async def post_resource(request: web.Request) -> web.Response:
    body = await read_json(request)
    name = require_text(body, "name", max_length=100)
    needed = choice(body, "license_type_needed", LICENSE_TYPES)
    count = require_int(body, "count", minimum=1, maximum=10_000)
    setting = choice(body, "license_type", spending.LICENSE_SETTINGS, default="default")
    resource = await spending.add_resource(request.app[NODE], name, needed, count, LicenseSetting(setting))
    return json_response({"resource": shapes.resource_json(resource)}, status=201)


@routes.get("/api/v1/resources/{id}")
async def get_resource(request: web.Request) -> web.Response:
    wanted = resource_id(request)
    for resource in await spending.list_resources(request.app[NODE]):
        if resource.resource.id == wanted:
            return json_response({"resource": shapes.resource_json(resource)})
    raise NotFound(f"There is no resource {wanted}.")


@routes.post("/api/v1/resources/{id}/start")
async def post_resource_start(request: web.Request) -> web.Response:
    outcome = await start_or_stop(request.app[NODE], request.app[LINK], resource_id(request), start=True)
    return json_response({"resource": shapes.resource_json(outcome.resource), "message": outcome.message})


@routes.post("/api/v1/resources/{id}/stop")
async def post_resource_stop(request: web.Request) -> web.Response:
    outcome = await start_or_stop(request.app[NODE], request.app[LINK], resource_id(request), start=False)
    return json_response({"resource": shapes.resource_json(outcome.resource), "message": outcome.message})
