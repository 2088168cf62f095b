"""Where each system's HOME answers, so the inspector can read HOME's journal through HOME's own control route.

A HOME started with ``--emulator-api`` announces its address when its link authenticates; a disconnected
HOME has no link, so a person (the inspector page) or ``scripts/run`` tells the cloud through
``PUT /_emulator/systems/{sys}/home-address``. The cloud fetches only loopback addresses (127.0.0.0/8,
::1, localhost) unless it was started with ``--inspector-host HOST`` for another host: the address
comes from whoever can reach the emulator API or link a system, and must not turn the cloud into a
way to reach other machines. The addresses live in memory: a restarted HOME announces itself again. The
processes of a cloud on one database tell each other (``share``), so any of them reads a HOME linked to another.
"""

import ipaddress
from dataclasses import dataclass

from yarl import URL

from flex_emulator.shared.bus import Bus, Message
from flex_emulator.shared.errors import BadRequest

MAX_URL_LENGTH = 300


@dataclass(frozen=True)
class HomeAddress:
    url: str
    source: str  # link | told


class HomeAddresses:
    def __init__(self, allowed_hosts: tuple[str, ...] = (), bus: Bus | None = None) -> None:
        self._allowed = {host.lower() for host in allowed_hosts}
        self._addresses: dict[str, HomeAddress] = {}
        self.bus = bus or Bus()
        self.bus.subscribe(self.heard)

    async def share(self, system_id: str) -> None:
        """Tell the other processes of the cloud where this system's HOME answers."""
        address = self._addresses.get(system_id)
        if address is not None:
            message = {"kind": "home_address", "system_id": system_id, "url": address.url, "source": address.source}
            await self.bus.publish(message)

    async def heard(self, message: Message) -> None:
        if message.get("kind") == "home_address" and isinstance(message.get("system_id"), str):
            try:
                self.set(message["system_id"], str(message.get("url")), str(message.get("source")))
            except BadRequest:
                return  # a host this process may not fetch

    def get(self, system_id: str) -> HomeAddress | None:
        return self._addresses.get(system_id)

    def set(self, system_id: str, url: str, source: str) -> HomeAddress:
        """Keep ``url`` (a base URL, checked and normalised) as the address of ``system_id``'s HOME."""
        address = HomeAddress(self.check(url), source)
        self._addresses[system_id] = address
        return address

    def announced(self, system_id: str, url: object) -> None:
        """What HOME said on its link; an address the cloud may not fetch is ignored, never an error on the link."""
        if isinstance(url, str):
            try:
                self.set(system_id, url, "link")
            except BadRequest:
                return

    def check(self, url: str) -> str:
        """``http(s)://host[:port]`` with a host the cloud may fetch; 400 otherwise."""
        if len(url) > MAX_URL_LENGTH:
            raise BadRequest(f"The address is longer than {MAX_URL_LENGTH} characters.", code="invalid_url")
        try:
            parsed = URL(url.strip())
            host, port = parsed.host, parsed.port
        except (ValueError, TypeError):
            raise BadRequest("The address is not a URL such as http://127.0.0.1:8802.", code="invalid_url") from None
        if (
            not parsed.absolute
            or parsed.scheme not in ("http", "https")
            or not host
            or parsed.user is not None
            or parsed.password is not None
            or parsed.path not in ("", "/")
            or parsed.query_string
            or parsed.fragment
        ):
            raise BadRequest(
                "HOME's address is its base URL, such as http://127.0.0.1:8802 (no path, query or user).",
                code="invalid_url",
            )
        if not self.allowed(host):
            raise BadRequest(
                f"The cloud reads HOME journals only on this machine (loopback), not at {host}: start the cloud "
                f"with --inspector-host {host} to allow that host.",
                code="address_not_allowed",
            )
        return str(URL.build(scheme=parsed.scheme, host=host, port=port))

    def allowed(self, host: str) -> bool:
        host = host.lower().strip("[]")
        if host == "localhost" or host in self._allowed:
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def forget(self) -> None:
        self._addresses.clear()
