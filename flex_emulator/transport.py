"""How the clients talk HTTP: ``AsyncTransport`` (aiohttp) and ``Transport`` (the standard library)."""

import http.client
import io
import json
import select
import threading
import urllib.error
import urllib.parse
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
        keep_alive: bool = True,
    ) -> None:
        """``keep_alive`` is always so here (aiohttp keeps its connections); the parameter mirrors ``Transport``."""
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
    """Blocking HTTP with the standard library: no event loop, usable from any thread.

    By default each request opens and closes its own connection (``urllib``). With ``keep_alive`` the
    transport keeps one connection per service and thread open between requests (a World's own, which
    makes a dozen requests to start); then ``close()`` it when done."""

    def __init__(
        self, timeout: float = 60.0, *, headers: dict[str, str] | None = None, keep_alive: bool = False
    ) -> None:
        self._timeout = timeout
        self.headers = dict(headers or {})  # sent with every request (a World marks its own calls)
        self.observers: list[Observer] = []  # each is called with (method, url, response) after every request
        self.keep_alive = keep_alive
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

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
        if self.keep_alive:
            response = self._kept(method, url, body, headers)
            for observer in self.observers:
                observer(method, url, response)
            return response
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

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        """This thread's open connection to ``netloc``; a new one when the service closed the kept one."""
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        connection = pool.get((scheme, netloc))
        # An idle connection that is readable was closed by the service (or sent something unasked): a new one.
        if connection is not None and connection.sock is not None and select.select([connection.sock], [], [], 0)[0]:
            connection.close()
            connection = None
        if connection is None:
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            connection = kind(netloc, timeout=self._timeout)
            pool[(scheme, netloc)] = connection
            with self._lock:
                self._all.append(connection)
        return connection

    def _kept(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Response:
        parts = urllib.parse.urlsplit(url)
        connection = self._connection(parts.scheme, parts.netloc)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(method, target, body=body, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
        except BaseException:
            connection.close()
            raise
        if answer.will_close:
            connection.close()
        return Response(answer.status, answer.headers.get_content_type(), payload, dict(answer.headers))

    def close(self) -> None:
        """Close the connections kept open (nothing to do without ``keep_alive``)."""
        with self._lock:
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()


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
