"""Conditional requests (RFC 9110 §13) with an aggregate's stream version as its strong ETag: ``"3"``.

Commands check ``If-Match`` (lost-update prevention, see :mod:`jinlin.web.commands`); reads answer
``If-None-Match`` with ``304 Not Modified`` through :func:`versioned_response`.
"""

import re
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from jinlin.web.problems import Problem

# An entity tag per RFC 9110: optional weakness marker, then a quoted string without quotes inside.
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')


def etag_of(version: int) -> str:
    return f'"{version}"'


def parse_entity_tags(header: str) -> list[tuple[bool, str]] | None:
    """``[(weak, opaque), ...]`` of a comma-separated list, or ``None`` when the header is malformed."""
    tags = []
    position = 0
    while position < len(header):
        match = _ENTITY_TAG.match(header, position)
        if match is None:
            return None
        tags.append((match.group(1) is not None, match.group(2)))
        position = match.end()
        if position < len(header):
            if header[position] != ",":
                return None
            position += 1
    return tags or None


def if_match_holds(header: str, current_version: int) -> bool:
    """Whether ``If-Match: header`` lets a command change a stream now at ``current_version``.

    Strong comparison (a weak tag never matches); ``*`` matches any stream that exists. A malformed header is
    a ``400`` problem rather than a silent mismatch, so a client sending ``3`` instead of ``"3"`` learns why.
    """
    if header.strip() == "*":
        return current_version > 0
    tags = parse_entity_tags(header)
    if tags is None:
        raise Problem(
            400,
            "Malformed If-Match",
            f'If-Match takes the ETag of the resource, quoted, e.g. If-Match: "{current_version or 1}".',
            slug="malformed-if-match",
        )
    return any(not weak and opaque == str(current_version) for weak, opaque in tags)


def if_none_match_holds(header: str, current_version: int) -> bool:
    """Whether the client's copy is current (weak comparison, as RFC 9110 prescribes for If-None-Match)."""
    if header.strip() == "*":
        return current_version > 0
    tags = parse_entity_tags(header) or []
    return any(opaque == str(current_version) for _weak, opaque in tags)


def versioned_response(request: Request, content: Any, version: int, *, status_code: int = 200) -> Response:
    """A read answer carrying ``ETag: "<version>"``; ``304`` without a body when the client's copy is current.

    ``content`` is anything FastAPI can encode (a pydantic model, a dict).
    """
    etag = etag_of(version)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and if_none_match_holds(if_none_match, version):
        return Response(status_code=304, headers={"ETag": etag})
    return JSONResponse(jsonable_encoder(content), status_code=status_code, headers={"ETag": etag})
