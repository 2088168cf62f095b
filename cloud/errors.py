"""Cloud-specific errors on top of the shared hierarchy."""

from shared.errors import ApiError, BadRequest, Conflict
from shared.tokens import TokenError


class AssignmentConflict(Conflict):
    """A credit movement the rules do not allow right now (409 unless said otherwise)."""


def refused(exc: TokenError) -> ApiError:
    """A refused token (revoke key, registration code) as an API error."""
    status = 400 if exc.code == "malformed" else 422
    return ApiError(exc.message, code=exc.code, status=status)


def bad_field(name: str, message: str) -> BadRequest:
    return BadRequest(message, code=f"invalid_{name}")
