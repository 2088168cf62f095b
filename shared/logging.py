"""structlog set-up, done once in each service's main()."""

import logging
import sys
from collections.abc import MutableMapping
from enum import Enum
from typing import Any

import structlog


def enum_values(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A state logged as ``via=link``, not ``via=<ReceiptSource.LINK: 'link'>``."""
    for key, value in event.items():
        if isinstance(value, Enum):
            event[key] = value.value
    return event


def configure_logging(level: str = "info") -> None:
    renderers: list[structlog.typing.Processor]
    if sys.stderr.isatty():
        renderers = [structlog.dev.ConsoleRenderer()]
    else:  # JSON lines: the traceback travels as the "exception" field, not lost
        renderers = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            enum_values,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *renderers,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
