"""Typed keys for everything the HOME application shares between handlers."""

from aiohttp import web

from home.config import Config
from home.link import CloudLink
from home.node import Node
from shared.clock import Clock

CONFIG_KEY = web.AppKey("config", Config)
CLOCK_KEY = web.AppKey("clock", Clock)
NODE_KEY = web.AppKey("node", Node)
LINK_KEY = web.AppKey("link", CloudLink)
