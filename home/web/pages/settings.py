"""HOME pages: Settings → Licensing cloud (registration code, connect and disconnect)."""

from aiohttp import web

from flex_emulator.home.appkeys import LINK, NODE
from flex_emulator.home.web.pages.kit import checked_form, render
from flex_emulator.shared.pagekit import Flash, redirect

routes = web.RouteTableDef()


@routes.get("/settings")
async def get_settings(request: web.Request) -> web.Response:
    raise web.HTTPFound("/settings/cloud")


@routes.get("/settings/cloud")
async def get_settings_cloud(request: web.Request) -> web.Response:
    node, link = request.app[NODE], request.app[LINK]
    context = {
        "cloud": link.view(),
        "registration_code": node.identity.registration_code(node.label),
        "trust_source": node.trust.source,
    }
    return await render(request, "settings_cloud.html", context, active="settings")


@routes.post("/settings/cloud")
async def post_settings_cloud(request: web.Request) -> web.StreamResponse:
    form = await checked_form(request)
    wanted = form.get("enabled")
    if wanted not in ("on", "off"):
        return redirect(
            request,
            "/settings/cloud",
            Flash(kind="error", title="Nothing changed", message="Use the Connect or Disconnect button."),
        )
    await request.app[LINK].set_enabled(wanted == "on")
    if wanted == "on":
        message = Flash(
            kind="info",
            title="Connecting",
            message="HOME is connecting to the licensing cloud; the state above shows when it is online.",
        )
    else:
        message = Flash(
            kind="info",
            title="Disconnected",
            message="HOME is disconnected from the licensing cloud. Credits can still be uploaded as files.",
        )
    return redirect(request, "/settings/cloud", message)
