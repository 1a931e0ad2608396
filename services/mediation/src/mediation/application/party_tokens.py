"""The secret a party reads their case with: made here, shown once, never stored in clear.

A party token is ``jlp_<case_id>.<secret>``: the prefix tells it from a staff token at a glance (in a header, in a
support ticket, to a secret scanner), the case id says which case to look in, and the secret, 32 random bytes in
base64url, is what proves it. The case records the SHA-256 of the whole token (``PartyAccessGranted``), so neither
the store, nor NATS, nor a backup holds anything that opens the case; a token whose case id was changed has another
digest and opens nothing.
"""

import hashlib
import re
import secrets
from typing import Final

from mediation.domain.identifiers import is_identifier

PREFIX: Final = "jlp_"
SECRET_BYTES: Final = 32
_SECRET: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 bytes in unpadded base64url


def new_token(case_id: str) -> str:
    return f"{PREFIX}{case_id}.{secrets.token_urlsafe(SECRET_BYTES)}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_party_token(token: str) -> bool:
    return token.startswith(PREFIX)


def case_id_of(token: str) -> str | None:
    """The case a well-formed party token names, else ``None``."""
    if not looks_like_party_token(token):
        return None
    case_id, dot, secret = token.removeprefix(PREFIX).partition(".")
    if not dot or not is_identifier(case_id) or not _SECRET.match(secret):
        return None
    return case_id
