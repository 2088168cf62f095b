"""A licensing client as a customer writes one: it assigns credits in the cloud, provisions a disconnected
HOME by file and revoke key, and polls what a HOME holds, over plain HTTP. It knows nothing of flex-emulator
beyond the addresses and the token it is given; it retries a 503 (as its Retry-After says, within reason)
and a reset connection once."""

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any


class LicensingError(Exception):
    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


class LicensingClient:
    def __init__(self, cloud_url: str, account_id: str, token: str, *, timeout: float = 5.0) -> None:
        self.cloud_url = cloud_url.rstrip("/")
        self.account_id = account_id
        self.token = token
        self.timeout = timeout

    # --- plumbing ---------------------------------------------------------------------------------

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes, str]:
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return answer.status, answer.read(), answer.headers.get("Retry-After", "")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read(), error.headers.get("Retry-After", "")

    def request(
        self, method: str, url: str, body: Any = None, *, raw: bytes | None = None, content_type: str = ""
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if url.startswith(self.cloud_url) else {}
        data = raw
        if body is not None:
            data, content_type = json.dumps(body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        for attempt in range(3):
            try:
                status, payload, retry_after = self._send(method, url, data, headers)
            except TimeoutError:
                raise LicensingError(0, "timeout", f"{method} {url} did not answer in {self.timeout} s") from None
            except (ConnectionError, urllib.error.URLError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, ConnectionRefusedError) or attempt == 2:
                    raise LicensingError(0, "unreachable", str(reason)) from None
                continue  # a reset connection: once more
            if status == 503 and attempt < 2:
                time.sleep(min(float(retry_after or 0), 0.05))  # honour Retry-After, capped for the tests' sake
                continue
            text = payload.decode()
            answer = json.loads(text) if text.startswith(("{", "[")) else text
            if status >= 400:
                error = answer.get("error", {}) if isinstance(answer, dict) else {}
                raise LicensingError(status, error.get("code", "unknown"), error.get("message", ""))
            return answer
        raise AssertionError("unreachable")

    def _account(self, rest: str) -> str:
        return f"{self.cloud_url}/api/v1/accounts/{self.account_id}{rest}"

    # --- the cloud --------------------------------------------------------------------------------

    def subscriptions(self) -> list[dict[str, Any]]:
        return self.request("GET", self._account("/subscriptions"))["subscriptions"]

    def available(self) -> float:
        return sum(sub["credits_available"] for sub in self.subscriptions())

    def assign(self, system_id: str, credits: float, *, auto_revoke_at: str | None = None) -> dict[str, Any]:
        subscription = next(sub for sub in self.subscriptions() if sub["selectable"])
        body = {"subscription_id": subscription["id"], "credits": credits}
        if auto_revoke_at:
            body["auto_revoke_at"] = auto_revoke_at
        return self.request("POST", self._account(f"/systems/{system_id}/assignments"), body)["assignment"]

    def revoke(self, system_id: str, assignment_id: str) -> dict[str, Any]:
        path = f"/systems/{system_id}/assignments/{assignment_id}/revoke"
        return self.request("POST", self._account(path), {"confirm": "confirm"})["assignment"]

    def assignments(self, system_id: str) -> list[dict[str, Any]]:
        return self.request("GET", self._account(f"/systems/{system_id}"))["assignments"]

    def download(self, system_id: str) -> str:
        return str(self.request("POST", self._account(f"/systems/{system_id}/credits-file")))

    def enter_revoke_key(self, system_id: str, revoke_key: str) -> dict[str, Any]:
        return self.request("POST", self._account(f"/systems/{system_id}/revoke-keys"), {"revoke_key": revoke_key})

    # --- a HOME -------------------------------------------------------------------------------------

    def credits(self, home_url: str) -> dict[str, Any]:
        return self.request("GET", f"{home_url}/api/v1/licenses/credits")

    def upload(self, home_url: str, file: str) -> dict[str, Any]:
        """As a browser's form does it: multipart, field ``file``."""
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="credits.jwt"\r\n'
            f"Content-Type: application/jwt\r\n\r\n{file}\r\n--{boundary}--\r\n"
        ).encode()
        url = f"{home_url}/api/v1/file-licenses"
        return self.request("POST", url, raw=body, content_type=f"multipart/form-data; boundary={boundary}")

    def wait_for_total(self, home_url: str, total: float, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (held := self.credits(home_url))["total"] != total:
            if time.monotonic() > deadline:
                raise AssertionError(f"{home_url} holds {held['total']} credits, not {total}")
            time.sleep(0.01)
        return held

    # --- what the customer's product does -------------------------------------------------------

    def provision_disconnected(self, home_url: str, system_id: str, credits: float) -> dict[str, Any]:
        assignment = self.assign(system_id, credits)
        self.upload(home_url, self.download(system_id))
        return assignment

    def return_disconnected(self, home_url: str, system_id: str, assignment_id: str) -> dict[str, Any]:
        self.revoke(system_id, assignment_id)
        self.upload(home_url, self.download(system_id))
        return self.enter_revoke_key(system_id, self.credits(home_url)["revoke_key"])
