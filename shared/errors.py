"""One error hierarchy for both services, with one code → status table; the error middleware turns it into
the contract's JSON shape (pages render an error page, the link an ``error`` message)."""

# The HTTP status of every error code that is not simply its class's status: a refused token or file.
STATUS_BY_CODE: dict[str, int] = {
    "malformed": 400,
    "bad_signature": 422,
    "wrong_system": 422,
    "expired": 422,
    "clock_skew": 422,
    "bad_revoke_key": 422,
    "stale": 409,
    "too_large": 413,
}


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.status = status if status is not None else STATUS_BY_CODE.get(self.code, type(self).status)

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(ApiError):
    status = 400
    code = "invalid_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "too_large"


class Unprocessable(ApiError):
    status = 422
    code = "unprocessable"


class TokenError(Unprocessable):
    """A token or file was refused (bad signature, another system's, expired, stale ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


class ProtocolError(BadRequest):
    """A link message that breaks the protocol; the link answers with an ``error`` message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)
