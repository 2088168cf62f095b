"""Typed keys for everything the HOME application shares between handlers."""

from aiohttp import web

from home.config import Config
from home.link import CloudLink
from home.node import Node
from shared.clock import Clock

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
NODE = web.AppKey("node", Node)
LINK = web.AppKey("link", CloudLink)
