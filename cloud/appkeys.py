"""Typed application keys for every shared resource of the cloud app."""

from aiohttp import web

from cloud.accounts import Accounts
from cloud.config import Config
from cloud.emulator_state import EmulatorState
from cloud.expiry import Expiry
from cloud.hub import LinkHub
from cloud.scheduler import Scheduler
from cloud.signer import Signer
from cloud.store import Database
from cloud.subscriptions import Subscriptions
from cloud.systems import Systems
from cloud.transfers import Transfers
from shared.clock import Clock

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
