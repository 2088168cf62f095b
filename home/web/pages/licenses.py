"""HOME pages: FileLicenses (upload) and Licenses (Credits, Perpetual)."""

from aiohttp import web

from flex_emulator.home.appkeys import CONFIG, LINK, NODE
from flex_emulator.home.domain import holdings
from flex_emulator.home.domain.licensing import Applied, credits_report, perpetual_report
from flex_emulator.home.domain.models import FileKind, UploadResult
from flex_emulator.home.domain.wording import count_of, credits_agree, size_of
from flex_emulator.home.web.pages.graph import bar_graph
from flex_emulator.home.web.pages.kit import CSRF_FIELD, check_csrf, render
from flex_emulator.home.web.uploads import apply_upload, read_upload
from flex_emulator.shared.errors import ApiError, TokenError
from flex_emulator.shared.pagekit import Flash, redirect
from flex_emulator.shared.snapshot_claims import MAX_ACTIVE_ASSIGNMENTS

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
PERPETUAL_SORTS = ("name", "total", "in_use", "remaining")


def applied_flash(applied: Applied, total: int) -> Flash:
    if applied.kind == FileKind.PERPETUAL:
        what = count_of(applied.count or 0, f"{applied.license_type} perpetual license")
        if applied.result == UploadResult.UNCHANGED:
            return Flash(
                kind="info",
                title="License already added",
                message=f"This license file ({what}) was uploaded before; nothing changed.",
            )
        return Flash(
            kind="success", title="Perpetual license added", message=f"{what} added. See Licenses → Perpetual."
        )
    if applied.result == UploadResult.UNCHANGED:
        return Flash(
            kind="info",
            title="Credits file already applied",
            message=f"Credits file number {applied.seq} is already applied; nothing changed.",
        )
    return Flash(
        kind="success",
        title="Credits file applied",
        message=f"Credits file number {applied.seq} is applied: {credits_agree(total, 'is', 'are')} valid now. "
        "See Licenses → Credits; its revoke key is shown there.",
    )


@routes.get("/")
async def get_index(request: web.Request) -> web.Response:
    raise web.HTTPFound("/licenses/credits")


@routes.get("/file-licenses")
async def get_file_licenses(request: web.Request) -> web.Response:
    report = await credits_report(request.app[NODE], online=request.app[LINK].state == "online")
    limit = size_of(request.app[CONFIG].max_upload_bytes)
    return await render(
        request,
        "file_licenses.html",
        {"report": report, "limit": limit, "most_assignments": f"{MAX_ACTIVE_ASSIGNMENTS:,}"},
        active="file-licenses",
    )


@routes.post("/file-licenses")
async def post_file_licenses(request: web.Request) -> web.StreamResponse:
    node, link = request.app[NODE], request.app[LINK]
    try:
        upload = await read_upload(request, request.app[CONFIG].max_upload_bytes)
    except ApiError as exc:
        return redirect(
            request,
            "/file-licenses",
            Flash(kind="error", title=REFUSAL_TITLES.get(exc.code, "Upload failed"), message=exc.message),
        )
    check_csrf(request, upload.fields.get(CSRF_FIELD))
    if not upload.data and not upload.filename:
        return redirect(
            request,
            "/file-licenses",
            Flash(
                kind="error",
                title=REFUSAL_TITLES["missing_field"],
                message="Choose a credits (.jwt) or license (.lic) file first.",
            ),
        )
    try:
        applied = await apply_upload(node, link, upload.data)
    except TokenError as exc:
        title = REFUSAL_TITLES.get(exc.code, "The file was refused")
        return redirect(
            request, "/file-licenses", Flash(kind="error", title=title, message=f"{exc.message} Nothing was changed.")
        )
    report = await credits_report(node, online=link.state == "online")
    return redirect(request, "/file-licenses", applied_flash(applied, report.totals.total))


@routes.get("/licenses")
async def get_licenses(request: web.Request) -> web.Response:
    raise web.HTTPFound("/licenses/credits")


@routes.get("/licenses/credits")
async def get_credits_page(request: web.Request) -> web.Response:
    online = request.app[LINK].state == "online"
    report = await credits_report(request.app[NODE], online=online)
    rows = [
        {"entry": e, "valid": holdings.is_valid(e, report.now), "after": holdings.after_validity(e, report.now, online)}
        for e in report.entries
    ]
    time = request.app[NODE].time
    context = {
        "report": report,
        "rows": rows,
        "graph": bar_graph(report.timeline, online),
        "tab": "credits",
        "clock_behind": time.clock_behind,
        "machine_time": time.clock.now(),
    }
    return await render(request, "licenses_credits.html", context, active="licenses")


@routes.get("/licenses/perpetual")
async def get_perpetual_page(request: web.Request) -> web.Response:
    lines = await perpetual_report(request.app[NODE])
    sort = request.query.get("sort", "name")
    sort = sort if sort in PERPETUAL_SORTS else "name"
    descending = request.query.get("dir") == "desc"
    key = (lambda line: line.license_type.lower()) if sort == "name" else (lambda line: getattr(line, sort))
    lines.sort(key=key, reverse=descending)
    context = {"lines": lines, "sort": sort, "descending": descending, "tab": "perpetual"}
    return await render(request, "licenses_perpetual.html", context, active="licenses")
