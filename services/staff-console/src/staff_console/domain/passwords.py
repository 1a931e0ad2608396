"""Password hashes for console accounts: scrypt, salted, in one self-describing string. No plaintext anywhere.

``scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>``; make one with ``python -m staff_console.passwords``.
"""

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1
LENGTH = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=LENGTH)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


DUMMY_HASH = hash_password("a password nobody has", salt=b"\0" * 16)
"""Checked against when the user does not exist, so a wrong user name takes as long as a wrong password."""
