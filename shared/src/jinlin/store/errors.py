"""Typed errors of the event store."""


class StoreError(Exception):
    pass


class ConcurrencyError(StoreError):
    """A stream was not at the version the command expected; nothing was written."""

    def __init__(self, stream: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream} is at version {actual}, not {expected}")
        self.stream = stream
        self.expected = expected
        self.actual = actual


class InvalidStreamName(StoreError, ValueError):
    pass
