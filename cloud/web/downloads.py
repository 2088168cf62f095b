"""Files a person downloads: the credits file (a signed snapshot) and a perpetual license."""

from aiohttp import web


def slug(text: str, fallback: str = "home") -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-") or fallback


def credits_file_response(label: str, seq: int, token: str) -> web.Response:
    return web.Response(
        body=token.encode("ascii"),
        content_type="application/jwt",
        headers={"Content-Disposition": f'attachment; filename="credits-{slug(label)}-{seq}.jwt"'},
    )
