"""The outsider's conftest.py: their client, built from the world's connection details. Nothing else."""

import pytest
from licensing_client import LicensingClient

from flex_emulator import World


@pytest.fixture
def client(flex_world: World) -> LicensingClient:
    flex_world.create_account("Acme Broadcast", subscriptions=[8])
    details = flex_world.connection_details()
    account = details.account("Acme Broadcast")
    return LicensingClient(details.cloud_url, account.id, account.token, timeout=2.0)
