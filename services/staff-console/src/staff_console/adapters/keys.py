"""The console's two secrets, created on first start and kept as files readable by the console only.

- the session key (HMAC of session cookies);
- the Ed25519 key that signs evidence files (its public half is at ``/evidence/public-key``, for
  ``jinlin audit verify-export --public-key``).
"""

import contextlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

SESSION_KEY_FILE = "staff-console-session.key"
SIGNING_KEY_FILE = "staff-console-evidence-ed25519.pem"


def _write_private(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)


def session_key(directory: Path) -> bytes:
    path = directory / SESSION_KEY_FILE
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another replica created it meanwhile
            _write_private(path, secrets.token_hex(32).encode())
    return bytes.fromhex(path.read_text().strip())


def signing_key(directory: Path) -> Ed25519PrivateKey:
    path = directory / SIGNING_KEY_FILE
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        with contextlib.suppress(FileExistsError):
            _write_private(path, pem)
    loaded = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 key")
    return loaded
