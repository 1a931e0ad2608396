"""The JetStream streams: one per service (its audit trail) and the shared dead-letter stream.

A service's stream is an exact copy of its event log, so it keeps everything forever on disk and refuses deletes
and purges. Creating it is idempotent: every start calls :func:`ensure_stream`, which creates the stream or brings
the settings it owns back in line, leaving the rest (replicas, placement) as an operator set them.
"""

from collections.abc import Sequence
from dataclasses import replace

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import NotFoundError

DUPLICATE_WINDOW_SECONDS = 120.0
DEADLETTER_STREAM = "DEADLETTER"
DEADLETTER_SUBJECTS = "jinlin.dlq.>"


class StreamConfigError(RuntimeError):
    """The stream exists with a setting JetStream cannot change in place (its storage type, say)."""


def _owned_settings(config: StreamConfig, subjects: list[str]) -> StreamConfig:
    # max_age 0 = keep forever; discard "new" only matters if an operator adds limits, and then refusing new
    # messages is better than silently dropping the oldest part of an audit trail.
    return replace(
        config,
        subjects=subjects,
        retention=RetentionPolicy.LIMITS,
        max_age=0.0,
        max_msgs=-1,
        max_bytes=config.max_bytes if config.max_bytes and config.max_bytes > 0 else -1,
        discard=DiscardPolicy.NEW,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        deny_delete=True,
        deny_purge=True,
        allow_direct=True,
    )


_COMPARED_SETTINGS = (
    *("subjects", "retention", "max_age", "max_msgs", "max_bytes", "discard", "duplicate_window"),
    *("deny_delete", "deny_purge", "allow_direct", "num_replicas"),
)


def _differs(current: StreamConfig, desired: StreamConfig) -> bool:
    return any(getattr(current, name) != getattr(desired, name) for name in _COMPARED_SETTINGS)


async def ensure_stream(
    js: JetStreamContext, name: str, subjects: str | Sequence[str], *, replicas: int | None = None
) -> StreamInfo:
    """Create the stream, or update an existing one to the durable settings; safe to call on every start.

    ``replicas`` sets the number of copies in a cluster; ``None`` keeps what the stream has (1 when created).
    """
    wanted = [subjects] if isinstance(subjects, str) else list(subjects)
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        config = _owned_settings(StreamConfig(name=name, storage=StorageType.FILE, num_replicas=replicas or 1), wanted)
        # Two processes may race here; creating with an identical config is idempotent on the server.
        return await js.add_stream(config)
    current = info.config
    if current.storage != StorageType.FILE:
        raise StreamConfigError(f"stream {name} uses {current.storage} storage; it must be file storage")
    desired = _owned_settings(current, wanted)
    if replicas is not None:
        desired = replace(desired, num_replicas=replicas)
    if not _differs(current, desired):
        return info
    return await js.update_stream(desired)


async def ensure_deadletter_stream(js: JetStreamContext, *, replicas: int | None = None) -> StreamInfo:
    """The stream holding every message a consumer gave up on, on ``jinlin.dlq.<service>.<durable>``."""
    return await ensure_stream(js, DEADLETTER_STREAM, DEADLETTER_SUBJECTS, replicas=replicas)
