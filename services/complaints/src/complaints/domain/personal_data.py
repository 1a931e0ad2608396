"""The only places a resident's personal data may appear: opaque ciphertext and a person reference.

The application layer encrypts names and phone numbers with a key per person (crypto-shredding: destroying the key
erases the data everywhere, while events and their hash chain stay intact). The domain never sees clear text and
treats the blobs as opaque. It does check that what it is handed *looks* like ciphertext: a clear phone number or a
Chinese name passed by mistake would otherwise be stored and published forever. The check is a tripwire, not a
guarantee of encryption.
"""

import re
from typing import Annotated, Final

from pydantic import AfterValidator, StringConstraints

from complaints.domain.identifiers import IDENTIFIER_PATTERN

# A run of digits with phone punctuation: "13800138000", "+86 138-0013-8000", "0550 1234567".
_PHONE_LIKE: Final = re.compile(r"^\+?[0-9][0-9 ()\-]{5,}$")

# Sealed text is "<scheme>:<base64url>", the shape jinlin.privacy produces ("pd1:" + nonce, ciphertext and tag).
# The shape is checked here without importing the vault, so the domain stays free of crypto and database code.
# Forty characters is below any real AES-GCM sealed text and above a clear name or phone number.
CIPHERTEXT_PATTERN: Final = r"^[a-z][a-z0-9]{0,15}:[A-Za-z0-9_\-]+={0,2}$"
CIPHERTEXT_MIN: Final = 40
CIPHERTEXT_MAX: Final = 8192


def looks_like_phone_number(value: str) -> bool:
    return _PHONE_LIKE.match(value) is not None


def _not_a_phone_number(value: str) -> str:
    if looks_like_phone_number(value):
        # The message must not repeat the value: it is exactly what we refuse to record.
        raise ValueError(
            "looks like a clear phone number; personal data must be encrypted before it reaches the domain"
        )
    return value


# A person's identifier (also the reference of their encryption key). Never a phone number, which would otherwise
# fit the identifier pattern.
PersonRef = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN), AfterValidator(_not_a_phone_number)]

# An encrypted blob the application layer produced; the domain stores and returns it untouched.
Ciphertext = Annotated[
    str, StringConstraints(pattern=CIPHERTEXT_PATTERN, min_length=CIPHERTEXT_MIN, max_length=CIPHERTEXT_MAX)
]
