"""Identifiers of cases, complaints, compounds, parties, meetings, agreements and terms.

A case id becomes a NATS subject token (``jinlin.mediation.case.<case_id>.<event>``) and a stream name in the store,
so every identifier obeys the store's token rule: lower-case letters, digits, ``_`` and ``-``. It is the same rule
the complaints service uses, so a complaints case id is a valid mediation case id as it is.
"""

import re
from typing import Annotated, Final

from pydantic import StringConstraints

IDENTIFIER_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,99}$"
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]

# The id of an event of any service (a CloudEvents ``id``): any printable ASCII without spaces.
EVENT_ID_PATTERN: Final = r"^[!-~]{1,200}$"
EventId = Annotated[str, StringConstraints(pattern=EVENT_ID_PATTERN)]


def is_identifier(value: object) -> bool:
    return isinstance(value, str) and _IDENTIFIER.match(value) is not None
