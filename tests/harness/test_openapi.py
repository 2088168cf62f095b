"""Each service's /openapi.json is a valid OpenAPI 3.1 document, and real answers match it."""

from pathlib import Path

from jsonschema import Draft202012Validator

from flex_emulator import ApiError, CloudClient, World
from tests.kit.openapi import OpenApiChecker


def test_answers_of_a_whole_session_match_each_services_openapi_document(tmp_path: Path) -> None:
    with World.start(tmp_path) as world:
        cloud_doc = world.cloud.openapi()
        assert cloud_doc["openapi"] == "3.1.0"
        for schema in cloud_doc["components"]["schemas"].values():
            Draft202012Validator.check_schema(schema)
        cloud = OpenApiChecker(cloud_doc)
        account = world.create_account(subscriptions=[8, 4])
        studio = world.start_home("Studio A", account=account)
        home = OpenApiChecker(studio.client.openapi())

        def observe(method: str, url: str, response: object) -> None:
            checker = cloud if url.startswith(world.cloud.url) else home
            checker.check(method, url, response)

        world.transport.observers.append(observe)
        van = world.start_home("OB Van 3", account=account, online=False)
        item = account.assign(studio, 2)
        studio.settle()
        studio.credits()
        studio.client.perpetual()
        resource = studio.client.add_resource("Multiviewer", "MV", 1, "credits")
        studio.client.start_resource(resource["id"])
        studio.client.stop_resource(resource["id"])
        studio.client.resources()
        studio.client.clock()
        account.revoke(studio, item)
        offline = account.assign(van, 1)
        van.upload(account.download(van))
        account.revoke(van, offline)
        van.upload(account.download(van))
        account.enter_revoke_key(van, van.credits()["revoke_key"] or "")
        account.cloud.subscriptions(account.id)
        account.cloud.systems(account.id)
        account.cloud.accounts()
        account.cloud.users(account.id)
        account.cloud.add_user(account.id, "op@acme.test", "operator", "operator-password")
        account.cloud.history(account.id)
        account.cloud.cancel(account.id, account.subscriptions[1]["id"])
        world.cloud.invariant()
        world.cloud.create_user(account.id, "second@acme.test", "admin", "another-password")
        world.advance(days=2)
        world.cloud.settled(studio.system_id)
        state = world.cloud.dump_state()
        world.cloud.restore_state(state)
        studio.wait_for_link("online")
        signed = world.cloud.sign_in("op@acme.test", "operator-password")
        world.cloud.with_token(signed["token"]).sign_out()
        try:
            account.cloud.assign(account.id, studio.system_id, account.subscriptions[0]["id"], 100)
        except ApiError as refused:
            if refused.status != 409:  # only "not enough credits" may refuse this one
                raise
        page = world.cloud.events()
        world.cloud.events(after=page["next"], limit=5)
        studio.events()
        studio.set_link_faults(latency_ms=1)
        world.cloud.link_faults(studio.system_id)
        studio.mend_link()
        try:
            van.upload(account.download(van, fault="expired"))
        except ApiError as refused:
            if refused.code != "expired":
                raise
        inspect = f"/_emulator/systems/{van.system_id}"
        world.cloud.call("PUT", f"{inspect}/home-address", json={"url": van.url})
        world.cloud.call("GET", f"{inspect}/home-address")
        world.cloud.call("GET", "/_emulator/inspector/timeline", query={"system": van.system_id})
        world.cloud.call("GET", "/_emulator/inspector", query={"system": van.system_id})
        world.cloud.call("PUT", f"{inspect}/cloud-link", json={"enabled": False})
        world.cloud.call("POST", f"{inspect}/clock", json={"advance_seconds": 3600})
        fault = world.fail_requests("/api/v1/accounts/*", method="GET", retry_after=1, times=1)
        studio.delay_requests("/api/v1/resources", 1, times=1)
        studio.http_faults()
        outsider = CloudClient(world.cloud_url, token=account.token)  # not the world's own: faults apply
        outsider.transport.observers.append(observe)
        outsider.call("GET", f"/api/v1/accounts/{account.id}/systems", expect=503)
        assert world.http_faults() == [] and fault["remaining"] == 1
        studio.clear_http_faults()
        world.requests(harness=True)
        studio.requests(harness=True)
        studio.client.reset()
        world.cloud.jwks()
        world.cloud.healthz()
    assert cloud.problems == [], cloud.problems
    assert home.problems == [], home.problems
    operations = {(method, template) for method, template, _ in cloud.seen | home.seen}
    assert len(operations) >= 42, sorted(operations)


def test_every_object_in_both_documents_names_all_its_fields(tmp_path: Path) -> None:
    """No undocumented property can pass: every object schema closes with additionalProperties false."""
    with World.start(tmp_path) as world:
        studio = world.start_home("Studio A")
        documents = [world.cloud.openapi(), studio.client.openapi()]
    open_objects: list[str] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and node.get("additionalProperties") is not False:
                open_objects.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    for document in documents:
        walk(document, document["info"]["title"])
    assert open_objects == []
    cloud, home = documents
    assert "/_emulator/http-faults" in cloud["paths"] and "/_emulator/requests" in home["paths"]
    upload = home["paths"]["/api/v1/file-licenses"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload and "file" in upload["multipart/form-data"]["schema"]["properties"]
    action = home["components"]["schemas"]["HttpFault"]["properties"]["action"]
    assert action["enum"] == ["status", "latency", "reset", "hang"]
