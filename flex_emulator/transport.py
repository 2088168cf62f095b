"""How the clients talk HTTP: ``AsyncTransport`` (aiohttp) and ``Transport`` (the standard library)."""

import io
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

# Bodies up to this size go out with the headers in one write; larger ones as a file object (see request).
SMALL_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Response:
    """One HTTP answer: status, content type, body and headers."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        """The body as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


class ApiError(AssertionError):
    """A service answered with another status than the one expected; ``code`` is the contract's error code.

    An ``AssertionError``, so pytest shows it as a failed expectation with the service's own sentence."""

    def __init__(self, method: str, url: str, status: int, code: str, message: str) -> None:
        super().__init__(f"{method} {url} answered {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


Observer = Callable[[str, str, Response], None]


def _encode(json_body: Any, data: bytes | None, headers: dict[str, str]) -> bytes | None:
    if json_body is not None:
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(json_body).encode()
    return data


class AsyncTransport:
    """One aiohttp session, made on first use in the running event loop.

    ``session`` lends an open one instead (e.g. a pytest-aiohttp ``TestClient``'s ``session``);
    whoever lent it closes it, ``close()`` leaves it open."""

    def __init__(
        self,
        timeout: float = 60.0,
        *,
        session: aiohttp.ClientSession | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._timeout = timeout
        self.headers = dict(headers or {})  # sent with every request (a World marks its own calls)
        self._session: aiohttp.ClientSession | None = session
        self._owned = session is None
        self.observers: list[Observer] = []  # each is called with (method, url, response) after every request

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """One request; the answer whatever its status (observers are told about it)."""
        if self._session is None or (self._owned and self._session.closed):
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        headers = self.headers | (headers or {})
        body = _encode(json, data, headers)
        # Large bodies as a file object: aiohttp sends it in chunks between other work (and warns on large raw
        # bytes). Small ones as bytes, which go out with the headers in one write.
        payload = io.BytesIO(body) if body is not None and len(body) > SMALL_BODY_BYTES else body
        async with self._session.request(method, url, data=payload, headers=headers) as answer:
            response = Response(answer.status, answer.content_type, await answer.read(), dict(answer.headers))
        for observer in self.observers:
            observer(method, url, response)
        return response

    async def close(self) -> None:
        """Close the session this transport made (a lent one stays open)."""
        if self._session is not None and self._owned:
            await self._session.close()
            self._session = None


class Transport:
    """Blocking HTTP with ``urllib``: no event loop, usable from any thread."""

    def __init__(self, timeout: float = 60.0, *, headers: dict[str, str] | None = None) -> None:
        self._timeout = timeout
        self.headers = dict(headers or {})  # sent with every request (a World marks its own calls)
        self.observers: list[Observer] = []  # each is called with (method, url, response) after every request

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """One request; the answer whatever its status (observers are told about it)."""
        headers = self.headers | (headers or {})
        body = _encode(json, data, headers)
        if body is None and method in ("POST", "PUT"):
            body = b""
            # urllib would call an empty body a form, which the services refuse (a body-less form is how another
            # site's page posts): say it is empty JSON.
            headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:
                response = Response(
                    answer.status, answer.headers.get_content_type(), answer.read(), dict(answer.headers)
                )
        except urllib.error.HTTPError as error:
            with error:
                response = Response(error.code, error.headers.get_content_type(), error.read(), dict(error.headers))
        for observer in self.observers:
            observer(method, url, response)
        return response

    def close(self) -> None:
        """Nothing to close: each request opens and closes its own connection."""


def json_request(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    raw: bytes | None = None,
    timeout: float = 60.0,
) -> Any:
    """One blocking request to a full URL, for scripts and set-up code: the JSON answer (or the text of any
    other answer); ``ApiError`` for a 4xx or 5xx. ``raw`` is sent as a credits file (``application/jwt``)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if raw is not None:
        headers["Content-Type"] = "application/jwt"
    answer = Transport(timeout).request(method, url, json=body, data=raw, headers=headers)
    result = answer.json() if answer.content_type == "application/json" else answer.body.decode()
    if answer.status >= 400:
        error = result.get("error") if isinstance(result, dict) else None
        if not isinstance(error, dict):
            error = {"code": "", "message": str(result)}
        code, message = str(error.get("code", "")), str(error.get("message", ""))
        raise ApiError(method, url, answer.status, code, message)
    return result
