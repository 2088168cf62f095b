"""Typed application keys for every shared resource of the cloud app."""

from aiohttp import web

from cloud.config import Config
from cloud.store import Database
from cloud.hub import LinkHub
from cloud.lifecycle import Lifecycle
from cloud.scheduler import Scheduler
from cloud.signer import Signer
from cloud.subscriptions import Subscriptions
from cloud.transfers import Transfers
from shared.clock import Clock

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
DB = web.AppKey("db", Database)
SIGNER = web.AppKey("signer", Signer)
HUB = web.AppKey("hub", LinkHub)
TRANSFERS = web.AppKey("transfers", Transfers)
SUBSCRIPTIONS = web.AppKey("subscriptions", Subscriptions)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
SCHEDULER = web.AppKey("scheduler", Scheduler)
