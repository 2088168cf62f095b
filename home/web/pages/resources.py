"""HOME pages: Resources (add, start, stop)."""

from aiohttp import web

from flex_emulator.home.appkeys import LINK, NODE
from flex_emulator.home.domain import spending
from flex_emulator.home.domain.models import LicenseSetting, ResourceStatus
from flex_emulator.home.web.pages.kit import checked_form, render
from flex_emulator.home.web.resource_actions import start_or_stop
from flex_emulator.shared.catalog import CREDIT_COST_QUARTERS, LICENSE_TYPES
from flex_emulator.shared.errors import NotFound
from flex_emulator.shared.pagekit import Flash, redirect
from flex_emulator.shared.web import whole_number

routes = web.RouteTableDef()

SETTING_LABELS = {
    LicenseSetting.DEFAULT: "Default",
    LicenseSetting.PERPETUAL: "Perpetual only",
    LicenseSetting.CREDITS: "Credits only",
}


async def resources_page(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    resources = await spending.list_resources(request.app[NODE])
    context = {
        "resources": resources,
        "license_types": LICENSE_TYPES,
        "costs": CREDIT_COST_QUARTERS,
        "settings": SETTING_LABELS,
        "values": values,
        "errors": errors,
    }
    return await render(request, "resources.html", context, active="resources", status=status)


@routes.get("/resources")
async def get_resources_page(request: web.Request) -> web.Response:
    return await resources_page(
        request, {"name": "", "license_type_needed": LICENSE_TYPES[0], "count": "1", "license_type": "default"}, {}
    )


def resource_form_errors(values: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not values["name"]:
        errors["name"] = "Give the resource a name."
    elif len(values["name"]) > 100:
        errors["name"] = "Use at most 100 characters."
    if values["license_type_needed"] not in LICENSE_TYPES:
        errors["license_type_needed"] = "Choose one of the license types in the list."
    count = whole_number(values["count"], max_digits=5)
    if count is None or not 1 <= count <= 10_000:
        errors["count"] = "Enter a whole number from 1 to 10000."
    if values["license_type"] not in SETTING_LABELS:
        errors["license_type"] = "Choose how the resource is licensed."
    return errors


@routes.post("/resources")
async def post_resources_page(request: web.Request) -> web.StreamResponse:
    form = await checked_form(request)
    values = {
        name: str(form.get(name, "")).strip() for name in ("name", "license_type_needed", "count", "license_type")
    }
    errors = resource_form_errors(values)
    if errors:
        return await resources_page(request, values, errors, status=400)
    resource = await spending.add_resource(
        request.app[NODE],
        values["name"],
        values["license_type_needed"],
        int(values["count"]),
        LicenseSetting(values["license_type"]),
    )
    return redirect(
        request,
        "/resources",
        Flash(
            kind="success",
            title="Resource added",
            message=f"{resource.resource.name} is added and stopped; start it when ready.",
        ),
    )


@routes.post("/resources/{id}/{action:start|stop}")
async def post_resource_action(request: web.Request) -> web.StreamResponse:
    await checked_form(request)
    raw = request.match_info["id"]
    start = request.match_info["action"] == "start"
    try:
        number = whole_number(raw)
        if number is None:
            raise NotFound(f"There is no resource {raw}.")
        outcome = await start_or_stop(request.app[NODE], request.app[LINK], number, start=start)
    except NotFound as exc:
        return redirect(request, "/resources", Flash(kind="error", title="No such resource", message=exc.message))
    name, status = outcome.resource.resource.name, outcome.resource.status
    if status == ResourceStatus.UNLICENSED:
        return redirect(
            request, "/resources", Flash(kind="warning", title=f"{name} is unlicensed", message=outcome.message)
        )
    return redirect(request, "/resources", Flash(kind="success", title=f"{name} is {status}", message=outcome.message))
