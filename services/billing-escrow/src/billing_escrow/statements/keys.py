"""The center's Ed25519 key that signs the notary's statements, and how a public key is written down and named.

The private key lives in one PEM file (PKCS#8, unencrypted, mode 0600), created on first use. Its public key travels
in every signed statement as raw hex; the notary pins it (``jinlin notary verify --key center.pub.pem``) after
receiving it once over a channel it trusts. A key is named by its *key id*: the first 16 hex digits of the SHA-256 of
the raw 32-byte public key.
"""

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE_MODE: Final = 0o600
KEY_ID_LENGTH: Final = 16


class SigningKeyError(ValueError):
    """A key file or a public key that is not an Ed25519 key."""


def load_or_create_signing_key(path: str | Path) -> Ed25519PrivateKey:
    """The key in ``path``; a new one, written with mode 0600, when there is none.

    Two processes starting together both end up with the same key: the file appears atomically and only once.
    """
    path = Path(path)
    if path.exists():
        return load_signing_key(path)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(handle, KEY_FILE_MODE)
        with os.fdopen(handle, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # fails if another process got there first: then its key is the key
        except FileExistsError:
            return load_signing_key(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return key


def load_signing_key(path: str | Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path}: not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: not an Ed25519 key")
    return key


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte public key in lower-case hex, as signed statements carry it."""
    return raw_public_key(_public(key)).hex()


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as a PEM ``PUBLIC KEY`` block (SubjectPublicKeyInfo), the file a notary pins."""
    pem = _public(key).public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode()


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    return hashlib.sha256(raw_public_key(_public(key))).hexdigest()[:KEY_ID_LENGTH]


def public_key_from_hex(value: str) -> Ed25519PublicKey:
    try:
        raw = bytes.fromhex(value)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise SigningKeyError("not a raw Ed25519 public key in hex (64 hex digits)") from exc


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """A public key from a file: a PEM ``PUBLIC KEY`` block, or the raw key in hex on one line.

    A private key file is accepted too (its public half is taken), so the center can point at its own key.
    """
    data = Path(path).read_bytes()
    text = data.decode("ascii", errors="replace").strip()
    if "PRIVATE KEY" in text:
        return load_signing_key(path).public_key()
    if "BEGIN" not in text:
        try:
            return public_key_from_hex(text)
        except SigningKeyError as exc:
            raise SigningKeyError(f"{path}: {exc}") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise SigningKeyError(f"{path}: not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{path}: not an Ed25519 public key")
    return key


def _public(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key
