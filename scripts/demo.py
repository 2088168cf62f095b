"""What ``scripts/demo`` runs: the seed's two flows through the public HTTP API, step by step.

Start ``scripts/run`` first (in another terminal). Every request printed here is one a user's own
integration test could make.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from flex_emulator.cloud.domain.demo import DEMO_ADMIN


class Demo:
    def __init__(self, cloud: str, studio: str, van: str) -> None:
        self.cloud, self.studio, self.van = cloud, studio, van
        self.token = ""

    def call(self, method: str, url: str, body: Any = None, raw: bytes | None = None, auth: bool = True) -> Any:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Content-Type": "application/jwt" if raw is not None else "application/json"}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, data=data, headers=headers, method=method), timeout=15
            ) as answer:
                text = answer.read().decode()
                return json.loads(text) if answer.headers.get_content_type() == "application/json" else text
        except urllib.error.HTTPError as error:
            sys.exit(f"{method} {url} failed: {error.code} {error.read().decode()}")

    def say(self, text: str) -> None:
        sys.stdout.write(f"\n== {text}\n")

    def show(self, label: str, value: Any) -> None:
        sys.stdout.write(f"   {label}: {json.dumps(value) if not isinstance(value, str) else value}\n")

    def run(self) -> None:
        self.say("Sign in to the portal as the demo admin")
        signed = self.call(
            "POST",
            f"{self.cloud}/api/v1/auth/token",
            {"email": DEMO_ADMIN[0], "password": DEMO_ADMIN[1]},
            auth=False,
        )
        self.token = signed["token"]
        account = signed["accounts"][0]["id"]
        base = f"{self.cloud}/api/v1/accounts/{account}"
        subs = self.call("GET", f"{base}/subscriptions")["subscriptions"]
        for sub in subs:
            self.show(
                sub["order_id"],
                f"{sub['duration']} ({sub['state']}) {sub['credits_available']}/{sub['credits_total']} available, "
                f"selectable={sub['selectable']}",
            )
        monthly = next(sub for sub in subs if sub["selectable"])
        systems = {item["label"]: item for item in self.call("GET", f"{base}/systems")["systems"]}
        studio, van = systems["Studio A"], systems["OB Van 3"]
        self.show("Studio A", "Online" if studio["online"] else "Offline")
        self.show("OB Van 3", "Online" if van["online"] else "Offline")

        self.say("Online: assign 2 credits to Studio A (they arrive at once, Downloaded ticks)")
        item = self.call(
            "POST", f"{base}/systems/{studio['id']}/assignments", {"subscription_id": monthly["id"], "credits": 2}
        )["assignment"]
        self.show("assignment", {key: item[key] for key in ("id", "credits", "downloaded", "valid_until")})
        time.sleep(0.5)
        view = self.call("GET", f"{self.studio}/api/v1/licenses/credits", auth=False)
        self.show("Studio A Licenses → Credits", {key: view[key] for key in ("total", "in_use", "remaining", "seq")})

        self.say("Online revoke: type confirm; the credits come back as soon as HOME's receipt proves it dropped them")
        revoked = self.call(
            "POST", f"{base}/systems/{studio['id']}/assignments/{item['id']}/revoke", {"confirm": "confirm"}
        )["assignment"]
        self.show("state", f"{revoked['state']} ({revoked['end_reason']})")

        self.say("Disconnected: assign 1.5 credits to OB Van 3 (Downloaded stays empty)")
        offline = self.call(
            "POST", f"{base}/systems/{van['id']}/assignments", {"subscription_id": monthly["id"], "credits": 1.5}
        )["assignment"]
        self.show("downloaded", offline["downloaded"])
        self.say("Download the credits file (a standard JWT) and upload it on OB Van 3's FileLicenses page")
        file = self.call("POST", f"{base}/systems/{van['id']}/credits-file")
        self.show("file", f"{len(file)} bytes, header {file.split('.')[0][:40]}...")
        uploaded = self.call("POST", f"{self.van}/api/v1/file-licenses", raw=file.encode(), auth=False)
        self.show("upload", {key: uploaded[key] for key in ("kind", "result", "seq", "credits")})

        self.say("Revoke the Downloaded credits: the portal asks for the revoke key")
        pending = self.call(
            "POST", f"{base}/systems/{van['id']}/assignments/{offline['id']}/revoke", {"confirm": "confirm"}
        )
        self.show("state", pending["assignment"]["state"])
        for number, step in enumerate(pending["steps"], 1):
            self.show(f"step {number}", step)
        self.show("returns at the latest", pending["returns_at"])
        newer = self.call("POST", f"{base}/systems/{van['id']}/credits-file")
        self.call("POST", f"{self.van}/api/v1/file-licenses", raw=newer.encode(), auth=False)
        key = self.call("GET", f"{self.van}/api/v1/licenses/credits", auth=False)["revoke_key"]
        self.show("revoke key from HOME", f"{key[:48]}...")
        returned = self.call("POST", f"{base}/systems/{van['id']}/revoke-keys", {"revoke_key": key})
        self.show("returned", returned)
        again = self.call("POST", f"{base}/systems/{van['id']}/revoke-keys", {"revoke_key": key})
        self.show("the same key again", again)
        self.say("History (newest first)")
        for event in self.call("GET", f"{base}/history?limit=8")["events"]:
            self.show(event["at"], f"{event['kind']} {event['credits']} by {event['actor']}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__)
    parser.add_argument("--cloud", default="http://127.0.0.1:8700")
    parser.add_argument("--studio", default="http://127.0.0.1:8801")
    parser.add_argument("--van", default="http://127.0.0.1:8802")
    args = parser.parse_args()
    Demo(args.cloud.rstrip("/"), args.studio.rstrip("/"), args.van.rstrip("/")).run()


if __name__ == "__main__":
    main()
