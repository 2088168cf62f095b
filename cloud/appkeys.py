"""Typed application keys for every shared resource of the cloud app."""

from aiohttp import web

from flex_emulator.cloud.config import Config
from flex_emulator.cloud.domain.accounts import Accounts
from flex_emulator.cloud.domain.cluster import Cluster
from flex_emulator.cloud.domain.expiry import Expiry
from flex_emulator.cloud.domain.scheduler import Scheduler
from flex_emulator.cloud.domain.signer import Signer
from flex_emulator.cloud.domain.subscriptions import Subscriptions
from flex_emulator.cloud.domain.systems import Systems
from flex_emulator.cloud.domain.transfers import Transfers
from flex_emulator.cloud.emulator.home_addresses import HomeAddresses
from flex_emulator.cloud.emulator.inspector import Inspector
from flex_emulator.cloud.emulator.state import EmulatorState
from flex_emulator.cloud.link.hub import LinkHub
from flex_emulator.cloud.store import Database
from flex_emulator.shared.clock import Clock

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
DB = web.AppKey("db", Database)
SIGNER = web.AppKey("signer", Signer)
HUB = web.AppKey("hub", LinkHub)
TRANSFERS = web.AppKey("transfers", Transfers)
SUBSCRIPTIONS = web.AppKey("subscriptions", Subscriptions)
EXPIRY = web.AppKey("expiry", Expiry)
SYSTEMS = web.AppKey("systems", Systems)
ACCOUNTS = web.AppKey("accounts", Accounts)
SCHEDULER = web.AppKey("scheduler", Scheduler)
EMULATOR_STATE = web.AppKey("emulator_state", EmulatorState)
HOME_ADDRESSES = web.AppKey("home_addresses", HomeAddresses)
INSPECTOR = web.AppKey("inspector", Inspector)
CLUSTER = web.AppKey("cluster", Cluster)
