"""The only places a person's data may appear: opaque ciphertext and a person reference.

A resident who is a party to a case is named by a person reference and a sealed name, which the application layer
encrypted with that person's key (crypto-shredding: destroying the key erases the name everywhere while the events
and their hash chain stay intact). The domain never sees clear text and treats the blobs as opaque. It does check
that what it is handed *looks* like ciphertext: a clear phone number passed by mistake would otherwise be stored and
published forever. The check is a tripwire, not a guarantee of encryption.
"""

import re
from typing import Annotated, Final

from pydantic import AfterValidator, StringConstraints

from mediation.domain.identifiers import IDENTIFIER_PATTERN

# A run of digits with phone punctuation: "13800138000", "+86 138-0013-8000", "0550 1234567".
_PHONE_LIKE: Final = re.compile(r"^\+?[0-9][0-9 ()\-]{5,}$")

# Ciphertext and key references are printable ASCII without spaces (base64, base64url, JWE, hex, "kid:blob").
# Sixteen characters is below any real authenticated ciphertext and above most clear given names.
CIPHERTEXT_PATTERN: Final = r"^[!-~]{16,8192}$"


def looks_like_phone_number(value: str) -> bool:
    return _PHONE_LIKE.match(value) is not None


def _not_a_phone_number(value: str) -> str:
    if looks_like_phone_number(value):
        # The message must not repeat the value: it is exactly what we refuse to record.
        raise ValueError(
            "looks like a clear phone number; personal data must be encrypted before it reaches the domain"
        )
    return value


# A person's identifier (also the reference of their encryption key). Never a phone number.
PersonRef = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN), AfterValidator(_not_a_phone_number)]

# An encrypted blob the application layer produced; the domain stores and returns it untouched.
Ciphertext = Annotated[str, StringConstraints(pattern=CIPHERTEXT_PATTERN), AfterValidator(_not_a_phone_number)]
