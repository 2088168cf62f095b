"""Who is calling: bearer tokens (API) or the session cookie (pages), and their role in the account."""

from dataclasses import dataclass

from aiohttp import web

from flex_emulator.cloud.appkeys import ACCOUNTS, DB
from flex_emulator.cloud.domain.models import User
from flex_emulator.cloud.domain.passwords import token_digest
from flex_emulator.shared.errors import Forbidden, NotFound, Unauthorized

SESSION_COOKIE = "flex_session"


@dataclass(frozen=True)
class Caller:
    user: User
    account_id: str
    role: str

    @property
    def actor(self) -> str:
        return self.user.email


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def session_token(request: web.Request, *, cookie: bool = False) -> str:
    """The session token; the cookie is accepted only for pages, which carry their own CSRF check."""
    token = bearer_token(request) or (request.cookies.get(SESSION_COOKIE) if cookie else None)
    if not token:
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <token>' from POST /api/v1/auth/token.")
    return token


def _invalid_token() -> Unauthorized:
    return Unauthorized("This token is not valid (signed out or never issued).", code="invalid_token")


async def authenticate(request: web.Request, *, cookie: bool = False) -> User:
    """The signed-in user."""
    user = await request.app[DB].read.users.for_session(token_digest(session_token(request, cookie=cookie)))
    if user is None:
        raise _invalid_token()
    return user


async def caller(request: web.Request, *, admin: bool = False, cookie: bool = False) -> Caller:
    """The caller as a member of the account in the URL; outsiders get 404, the wrong role 403."""
    found = await request.app[ACCOUNTS].signed_in(session_token(request, cookie=cookie))
    if found is None:
        raise _invalid_token()
    user, reached = found
    account_id = request.match_info["acc"]
    memberships = {item.account_id: item.role for item in reached}
    role = memberships.get(account_id)
    if role is None:
        raise NotFound(f"There is no account {account_id}.")
    if admin and role != "admin":
        raise Forbidden("Only an admin of this account may do this.")
    return Caller(user, account_id, role)
