"""Canonical JSON (RFC 8785): one byte string per value, so that hashes and signatures are reproducible."""

from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    return rfc8785.dumps(value)
