"""HOME page handlers: FileLicenses, Licenses (Credits, Perpetual), Resources, Settings → Licensing cloud."""

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from home import credits, csrf, spending
from home.appkeys import CONFIG_KEY, LINK_KEY, NODE_KEY
from home.graph import bar_graph
from home.licensing import Applied, credits_report, perpetual_report
from home.pages import Flash, redirect, render, render_error_page
from home.uploads import apply_upload, read_upload
from home.wording import count_of, credits_agree
from shared.catalog import CREDIT_COST_QUARTERS, LICENSE_TYPES
from shared.errors import ApiError, NotFound
from shared.tokens import TokenError

routes = web.RouteTableDef()

REFUSAL_TITLES = {
    "malformed": "This is not a credits or license file",
    "bad_signature": "The file's signature cannot be trusted",
    "wrong_system": "The file is for another HOME system",
    "expired": "The credits file has expired",
    "clock_skew": "The file is dated in this HOME's future",
    "stale": "This credits file is older than the one already applied",
    "too_large": "The upload is too large",
    "missing_field": "No file was chosen",
}
SETTING_LABELS = {"default": "Default", "perpetual": "Perpetual only", "credits": "Credits only"}
PERPETUAL_SORTS = ("name", "total", "in_use", "remaining")


async def csrf_refused(request: web.Request, error: csrf.CsrfError) -> web.StreamResponse:
    message = f"{error} Nothing was changed. Reload the page and try again."
    return await render_error_page(request, 403, "csrf_failed", message)


async def checked_form(request: web.Request) -> MultiDictProxy[Any]:
    form = await request.post()
    field = form.get(csrf.FIELD)
    csrf.check(request, field if isinstance(field, str) else None)
    return form


def applied_flash(applied: Applied, total: int) -> Flash:
    if applied.kind == "perpetual":
        what = count_of(applied.count, f"{applied.license_type} perpetual license")
        if applied.result == "unchanged":
            return Flash("info", "License already added", f"This license file ({what}) was uploaded before; nothing changed.")
        return Flash("success", "Perpetual license added", f"{what} added. See Licenses → Perpetual.")
    if applied.result == "unchanged":
        return Flash("info", "Credits file already applied", f"Credits file number {applied.seq} is already applied; nothing changed.")
    return Flash(
        "success",
        "Credits file applied",
        f"Credits file number {applied.seq} is applied: {credits_agree(total, 'is', 'are')} valid now. "
        "See Licenses → Credits; its revoke key is shown there.",
    )


@routes.get("/")
async def get_index(request: web.Request) -> web.Response:
    raise web.HTTPFound("/licenses/credits")


@routes.get("/file-licenses")
async def get_file_licenses(request: web.Request) -> web.Response:
    report = await credits_report(request.app[NODE_KEY], online=request.app[LINK_KEY].state == "online")
    limit_kib = request.app[CONFIG_KEY].max_upload_bytes // 1024
    return await render(request, "file_licenses.html", {"report": report, "limit_kib": limit_kib}, active="file-licenses")


@routes.post("/file-licenses")
async def post_file_licenses(request: web.Request) -> web.StreamResponse:
    node, link = request.app[NODE_KEY], request.app[LINK_KEY]
    try:
        upload = await read_upload(request, request.app[CONFIG_KEY].max_upload_bytes)
    except ApiError as exc:
        return redirect(request, "/file-licenses", Flash("error", REFUSAL_TITLES.get(exc.code, "Upload failed"), exc.message))
    try:
        csrf.check(request, upload.fields.get(csrf.FIELD))
    except csrf.CsrfError as exc:
        return await csrf_refused(request, exc)
    if not upload.data and not upload.filename:
        return redirect(request, "/file-licenses", Flash("error", REFUSAL_TITLES["missing_field"], "Choose a credits (.jwt) or license (.lic) file first."))
    try:
        applied = await apply_upload(node, link, upload.data)
    except TokenError as exc:
        title = REFUSAL_TITLES.get(exc.code, "The file was refused")
        return redirect(request, "/file-licenses", Flash("error", title, f"{exc.message} Nothing was changed."))
    report = await credits_report(node, online=link.state == "online")
    return redirect(request, "/file-licenses", applied_flash(applied, report.totals.total))


@routes.get("/licenses")
async def get_licenses(request: web.Request) -> web.Response:
    raise web.HTTPFound("/licenses/credits")


@routes.get("/licenses/credits")
async def get_credits_page(request: web.Request) -> web.Response:
    online = request.app[LINK_KEY].state == "online"
    report = await credits_report(request.app[NODE_KEY], online=online)
    rows = [
        {"entry": e, "valid": credits.is_valid(e, report.now), "after": credits.after_validity(e, report.now, online)}
        for e in report.entries
    ]
    time = request.app[NODE_KEY].time
    context = {
        "report": report,
        "rows": rows,
        "graph": bar_graph(report.timeline),
        "tab": "credits",
        "clock_behind": time.clock_behind,
        "machine_time": time.clock.now(),
    }
    return await render(request, "licenses_credits.html", context, active="licenses")


@routes.get("/licenses/perpetual")
async def get_perpetual_page(request: web.Request) -> web.Response:
    lines = await perpetual_report(request.app[NODE_KEY])
    sort = request.query.get("sort", "name")
    sort = sort if sort in PERPETUAL_SORTS else "name"
    descending = request.query.get("dir") == "desc"
    key = (lambda line: line.license_type.lower()) if sort == "name" else (lambda line: getattr(line, sort))
    lines.sort(key=key, reverse=descending)
    context = {"lines": lines, "sort": sort, "descending": descending, "tab": "perpetual"}
    return await render(request, "licenses_perpetual.html", context, active="licenses")


async def resources_page(request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> web.Response:
    resources = await spending.list_resources(request.app[NODE_KEY])
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
    return await resources_page(request, {"name": "", "license_type_needed": LICENSE_TYPES[0], "count": "1", "license_type": "default"}, {})


def resource_form_errors(values: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not values["name"]:
        errors["name"] = "Give the resource a name."
    elif len(values["name"]) > 100:
        errors["name"] = "Use at most 100 characters."
    if values["license_type_needed"] not in LICENSE_TYPES:
        errors["license_type_needed"] = "Choose one of the license types in the list."
    if not values["count"].isdigit() or not 1 <= int(values["count"]) <= 10_000:
        errors["count"] = "Enter a whole number from 1 to 10000."
    if values["license_type"] not in SETTING_LABELS:
        errors["license_type"] = "Choose how the resource is licensed."
    return errors


@routes.post("/resources")
async def post_resources_page(request: web.Request) -> web.StreamResponse:
    try:
        form = await checked_form(request)
    except csrf.CsrfError as exc:
        return await csrf_refused(request, exc)
    values = {name: str(form.get(name, "")).strip() for name in ("name", "license_type_needed", "count", "license_type")}
    errors = resource_form_errors(values)
    if errors:
        return await resources_page(request, values, errors, status=400)
    resource = await spending.add_resource(
        request.app[NODE_KEY], values["name"], values["license_type_needed"], int(values["count"]), values["license_type"]
    )
    return redirect(request, "/resources", Flash("success", "Resource added", f"{resource.name} is added and stopped; start it when ready."))


@routes.post("/resources/{id}/{action:start|stop}")
async def post_resource_action(request: web.Request) -> web.StreamResponse:
    try:
        await checked_form(request)
    except csrf.CsrfError as exc:
        return await csrf_refused(request, exc)
    raw = request.match_info["id"]
    action = spending.start_resource if request.match_info["action"] == "start" else spending.stop_resource
    try:
        if not raw.isdigit() or len(raw) > 18:
            raise NotFound(f"There is no resource {raw}.")
        outcome = await action(request.app[NODE_KEY], int(raw))
    except NotFound as exc:
        return redirect(request, "/resources", Flash("error", "No such resource", exc.message))
    if outcome.resource.status == "unlicensed":
        return redirect(request, "/resources", Flash("warning", f"{outcome.resource.name} is unlicensed", outcome.message))
    return redirect(request, "/resources", Flash("success", f"{outcome.resource.name} is {outcome.resource.status}", outcome.message))


@routes.get("/settings")
async def get_settings(request: web.Request) -> web.Response:
    raise web.HTTPFound("/settings/cloud")


@routes.get("/settings/cloud")
async def get_settings_cloud(request: web.Request) -> web.Response:
    node, link = request.app[NODE_KEY], request.app[LINK_KEY]
    context = {
        "cloud": link.view(),
        "registration_code": node.identity.registration_code(node.label),
        "trust_source": node.trust.source,
    }
    return await render(request, "settings_cloud.html", context, active="settings")


@routes.post("/settings/cloud")
async def post_settings_cloud(request: web.Request) -> web.StreamResponse:
    try:
        form = await checked_form(request)
    except csrf.CsrfError as exc:
        return await csrf_refused(request, exc)
    wanted = form.get("enabled")
    if wanted not in ("on", "off"):
        return redirect(request, "/settings/cloud", Flash("error", "Nothing changed", "Use the Connect or Disconnect button."))
    await request.app[LINK_KEY].set_enabled(wanted == "on")
    if wanted == "on":
        message = Flash("info", "Connecting", "HOME is connecting to the licensing cloud; the state above shows when it is online.")
    else:
        message = Flash("info", "Disconnected", "HOME is disconnected from the licensing cloud. Credits can still be uploaded as files.")
    return redirect(request, "/settings/cloud", message)
