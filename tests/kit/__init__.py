"""The one test kit: every helper the tests share, by what it drives.

``api`` a cloud through its JSON API (``call``, ``Tenant``), ``world`` the harness's in-process world with
white-box handles, ``home`` a HOME on its own (signed files, uploads, a fake cloud link), ``portal`` the portal's
pages as a browser sees them, ``browser`` real servers for Playwright, ``processes`` real service processes.
Fixtures live in the conftest.py files and build on these.
"""

from datetime import timedelta

from flex_emulator import START  # every virtual clock starts here: the harness's worlds and the tests'
from flex_emulator.cloud.domain.demo import DEMO_ADMIN, DEMO_OPERATOR

DAY = timedelta(days=1)

# The account tests make through the emulator API (the demo account's users are DEMO_ADMIN and DEMO_OPERATOR).
TENANT_NAME = "Acme Broadcast"
TENANT_ADMIN = ("admin@acme.test", "correct horse")

__all__ = ["DAY", "DEMO_ADMIN", "DEMO_OPERATOR", "START", "TENANT_ADMIN", "TENANT_NAME"]
