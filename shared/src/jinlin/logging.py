"""Logging for every jinlin process: structlog, JSON lines in production, readable in a terminal.

Call :func:`configure_logging` once at start-up (a service's app factory, a CLI command). It sends both
structlog loggers and the standard library's (uvicorn, SQLAlchemy, nats-py) through one handler, so every line
has the same shape: ISO-8601 UTC ``timestamp``, ``level``, ``logger``, ``event`` and the ids bound with
:func:`log_context` (``caseid``, ``causationid``, ``request_id``...).

Personal data must never be logged; :func:`mask_personal_data` is only a safety net for keys that look like it
(``name``, ``phone``, ``id_number``, ``reporter*``...). It cannot see inside free text: never format personal
data into a message or an exception.
"""

import logging
import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

LogFormat = Literal["json", "console", "auto"]

REDACTED = "[redacted]"

# Exact keys (after normalising camelCase and dashes to snake_case) that hold personal data in this domain.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "full_name",
        "first_name",
        "last_name",
        "given_name",
        "family_name",
        "phone",
        "phone_number",
        "mobile",
        "telephone",
        "id_number",
        "id_card",
        "national_id",
        "passport",
        "passport_number",
        "email",
        "address",
        "birth_date",
        "date_of_birth",
    }
)
# People of a complaint: anything about them may identify them (``reporter``, ``reporter_phone``...).
PERSONAL_PREFIXES = ("reporter", "complainant", "contact", "person")
PERSONAL_SUFFIXES = ("_phone", "_phone_number", "_mobile", "_id_number", "_email", "_address", "_full_name")

# The stdlib loggers of uvicorn install their own handlers; they must propagate to ours instead.
_THIRD_PARTY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# These log SQL statements with their parameters (the personal data inside events) at INFO or DEBUG; the
# masking processor cannot see into a parameter tuple, so they are held at WARNING whatever the level.
_PARAMETER_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "asyncpg")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _normalise_key(key: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", key).replace("-", "_").lower()


def looks_personal(key: object) -> bool:
    if not isinstance(key, str):
        return False
    normalised = _normalise_key(key)
    return (
        normalised in PERSONAL_KEYS
        or normalised.startswith(PERSONAL_PREFIXES)
        or normalised.endswith(PERSONAL_SUFFIXES)
    )


def _masked(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: REDACTED if looks_personal(key) else _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


def mask_personal_data(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Replace the value of every key that looks like personal data, at any depth, with ``[redacted]``.

    The key stays so that a reader sees that something was there (and a developer finds the leak).
    """
    for key in list(event_dict):
        if looks_personal(key):
            event_dict[key] = REDACTED
        elif isinstance(event_dict[key], Mapping | list | tuple):
            event_dict[key] = _masked(event_dict[key])
    return event_dict


def _shared_processors() -> list[Processor]:
    """What both structlog and stdlib records go through before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_personal_data,
        structlog.processors.StackInfoRenderer(),
    ]


def _renderers(format: Literal["json", "console"], stream: TextIO) -> list[Processor]:
    if format == "json":
        # format_exc_info renders the traceback as text; unlike dict tracebacks it never includes local
        # variables, which could hold personal data.
        return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    return [structlog.dev.ConsoleRenderer(colors=_isatty(stream))]


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _JinlinHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler we installed, so that configuring again replaces it and nothing else."""


def configure_logging(
    format: LogFormat | str = "auto",
    level: str | int = "info",
    *,
    stream: TextIO | None = None,
) -> None:
    """Route structlog and stdlib logging to ``stream`` (stdout) as JSON lines or console text.

    ``auto`` picks the console renderer when ``stream`` is a terminal and JSON lines otherwise. Calling it again
    reconfigures (tests do); handlers installed by others on the root logger (pytest's) are left alone.
    """
    stream = stream or sys.stdout
    if format not in ("json", "console", "auto"):
        raise ValueError(f"log format must be json, console or auto, not {format!r}")
    chosen: Literal["json", "console"]
    if format == "auto":
        chosen = "console" if _isatty(stream) else "json"
    else:
        chosen = "json" if format == "json" else "console"
    numeric_level = level if isinstance(level, int) else logging.getLevelNamesMapping().get(level.upper())
    if numeric_level is None:
        raise ValueError(f"unknown log level {level!r}")

    shared = _shared_processors()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _JinlinHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_renderers(chosen, stream)],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _JinlinHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    for name in _THIRD_PARTY_LOGGERS:
        third_party = logging.getLogger(name)
        third_party.handlers.clear()
        third_party.propagate = True
    for name in _PARAMETER_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric_level, logging.WARNING))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


@contextmanager
def log_context(*, caseid: str | None = None, causationid: str | None = None, **more: object) -> Iterator[None]:
    """Bind ids to every log line of the current request or message, and restore the previous ones after.

    ``None`` values are not bound (a request that concerns no case logs no ``caseid``).
    """
    values: MutableMapping[str, object] = {"caseid": caseid, "causationid": causationid, **more}
    with structlog.contextvars.bound_contextvars(**{k: v for k, v in values.items() if v is not None}):
        yield
