"""Canonical JSON (RFC 8785): one byte string per value, so that hashes and signatures are reproducible.

``rfc8785`` is the reference, written in pure Python: it took most of the time of every append (each event is
canonicalised for its hash and for storage). For the values events are made of (strings, safe integers, booleans,
null, lists, objects with ASCII keys) the standard library's encoder, keys sorted and no spaces, writes exactly the
same bytes, in C: integers print the same, strings escape the same (``"``, ``\\``, the named control escapes and
``\\u00xx`` in lower case for the others), and ASCII keys sort the same by code point as by UTF-16 unit. Anything
else (a float, a huge integer, a non-ASCII key) goes to ``rfc8785``. A property test holds the two to each other.
"""

import json
from typing import Any

import rfc8785

# Integers JSON numbers can carry exactly (IEEE 754 doubles); rfc8785 refuses larger ones.
_SAFE_INTEGER = 2**53 - 1
_encode_plainly = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")).encode


def _plain(value: Any) -> bool:
    """True when the standard encoder writes ``value`` exactly as RFC 8785 does (exact types only: a subclass, an
    enum say, may encode differently, so it goes to the reference)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_SAFE_INTEGER <= value <= _SAFE_INTEGER)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return False
            if type(item) is not str and not _plain(item):
                return False
        return True
    if kind is list or kind is tuple:
        return all(type(item) is str or _plain(item) for item in value)
    return False


def canonical_json(value: Any) -> bytes:
    if _plain(value):
        try:
            return _encode_plainly(value).encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 says what is wrong with it
    return rfc8785.dumps(value)
