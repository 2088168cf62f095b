"""Typed keys for everything the HOME application shares between handlers."""

from aiohttp import web

from flex_emulator.home.config import Config
from flex_emulator.home.domain.node import Node
from flex_emulator.home.link.cloud_link import CloudLink
from flex_emulator.shared.clock import Clock

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
NODE = web.AppKey("node", Node)
LINK = web.AppKey("link", CloudLink)
