"""Identifiers of complaints, cases, compounds, people and organisations.

A complaint id and a case id become NATS subject tokens (``jinlin.complaints.complaint.<id>.<event>``) and stream
names in the store, so every identifier obeys the store's token rule: lower-case letters, digits, ``_`` and ``-``.
"""

import re
from typing import Annotated, Final

from pydantic import StringConstraints

IDENTIFIER_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,99}$"
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]


def is_identifier(value: object) -> bool:
    return isinstance(value, str) and _IDENTIFIER.match(value) is not None
