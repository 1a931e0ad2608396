"""NKey user keys: a seed file per NATS user, its public key, and the inbox prefix only that user may read.

A seed file holds the bare NKey seed (``SU...``) and nothing else, readable by its owner only. The server knows
each user by the public key (``U...``) derived from it; the seed never leaves the machine that connects with it.
"""

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

import nkeys  # type: ignore[import-untyped]

SEED_FILE_SUFFIX = ".nk"
SEED_FILE_MODE = 0o600
INBOX_ROOT = "_INBOX"


class SeedFileError(ValueError):
    """A seed file that is not a NATS user seed (empty, truncated, or the key of an operator or account)."""


def new_user_seed() -> str:
    """A fresh NKey user seed (``SU...``) from the operating system's random source."""
    seed: bytes = nkeys.encode_seed(secrets.token_bytes(32), nkeys.PREFIX_BYTE_USER)
    return seed.decode()


def public_key(seed: str) -> str:
    """The user's public key (``U...``) that the server config names."""
    try:
        pair = nkeys.from_seed(seed.strip().encode())
        key: bytes = pair.public_key
    except (nkeys.NkeysError, ValueError) as exc:
        raise SeedFileError("not an NKey seed") from exc
    if not key.startswith(b"U"):
        raise SeedFileError("an NKey seed, but not a user's (its public key does not start with U)")
    return key.decode()


def read_seed(path: Path) -> str:
    """The seed in ``path``, checked to be a user seed."""
    seed = path.read_text().strip()
    try:
        public_key(seed)
    except SeedFileError as exc:
        raise SeedFileError(f"{path}: {exc}") from None
    return seed


def write_seed(path: Path, seed: str) -> None:
    """Write ``seed`` to ``path`` with mode 0600, atomically: a reader sees the old seed or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(handle, SEED_FILE_MODE)
        with os.fdopen(handle, "w") as file:
            file.write(seed + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def inbox_prefix(user_public_key: str) -> str:
    """The inbox prefix of a user: replies to its requests (JetStream API answers, pulled messages) arrive under
    it, and it is the only inbox that user may subscribe to, so no user reads another's replies."""
    return f"{INBOX_ROOT}.{user_public_key}"


def inbox_prefix_of_seed_file(path: str | Path) -> str:
    return inbox_prefix(public_key(read_seed(Path(path))))
