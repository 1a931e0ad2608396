"""Identifiers of accounts, households, compounds, movements, disbursements, people and organisations.

Account, household and compound ids become NATS subject tokens (``jinlin.escrow.<aggregate>.<id>.<event>``) and
stream names in the store, so every identifier obeys the store's token rule: lower-case letters, digits, ``_``, ``-``.
"""

import re
from typing import Annotated, Final

from pydantic import StringConstraints

from billing_escrow.domain.errors import ValidationFailed

IDENTIFIER_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,99}$"
_IDENTIFIER: Final = re.compile(IDENTIFIER_PATTERN)

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]


def is_identifier(value: object) -> bool:
    return isinstance(value, str) and _IDENTIFIER.match(value) is not None


def require_identifier(value: object, field: str) -> str:
    """An identifier handed to a command, or ``ValidationFailed`` (checked early where a ledger account is named)."""
    if not is_identifier(value):
        raise ValidationFailed.single(field, "must be an identifier: lower-case letters, digits, '_' or '-'")
    assert isinstance(value, str)
    return value
