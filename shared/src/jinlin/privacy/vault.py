"""Crypto-shredding: personal data is sealed with its person's own key before it is stored or published.

Events carry only the sealed text and the person's reference. Deleting the key (``shred``) makes every copy
unreadable at once: in the store, in JetStream, in backups and in rebuilt read models, while the events and their
hash chain stay exactly as they were.

Keys live in the service's own database, never in events. SQLite runs with ``secure_delete`` on, so a deleted
key's bytes are overwritten; after the erasure commits, :meth:`EventStore.purge_deleted` also empties the WAL
(SQLite) or vacuums the key table (PostgreSQL), so no old copy of the page survives on disk.
"""

import base64
import os
import secrets
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.store.schema import person_keys

SEALED_PREFIX = "pd1:"
_NONCE_BYTES = 12


class PersonalDataVault:
    """Seal and open personal data with AES-256-GCM under a key per person (the reference is bound as AAD)."""

    @staticmethod
    def new_person_ref() -> str:
        return "p-" + secrets.token_hex(12)

    async def _key(self, conn: AsyncConnection, person_ref: str) -> bytes | None:
        row = (await conn.execute(select(person_keys.c.key).where(person_keys.c.person_ref == person_ref))).first()
        return bytes(row.key) if row else None

    async def seal(self, conn: AsyncConnection, person_ref: str, plaintext: str) -> str:
        """Encrypt for ``person_ref``, creating the person's key on first use (in the caller's transaction)."""
        key = await self._key(conn, person_ref)
        if key is None:
            key = AESGCM.generate_key(bit_length=256)
            await conn.execute(
                insert(person_keys).values(person_ref=person_ref, key=key, created_at=datetime.now(UTC).isoformat())
            )
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), person_ref.encode())
        return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    async def open(self, conn: AsyncConnection, person_ref: str, sealed: str) -> str | None:
        """The plaintext, or None when the person's key was shredded (or the text is not sealed for them)."""
        if not sealed.startswith(SEALED_PREFIX):
            return None
        key = await self._key(conn, person_ref)
        if key is None:
            return None
        raw = base64.urlsafe_b64decode(sealed[len(SEALED_PREFIX) :])
        try:
            return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], person_ref.encode()).decode()
        except (InvalidTag, ValueError):
            return None

    async def has_key(self, conn: AsyncConnection, person_ref: str) -> bool:
        return await self._key(conn, person_ref) is not None

    async def shred(self, conn: AsyncConnection, person_ref: str) -> bool:
        """Destroy the person's key; True when there was one. Irreversible by design."""
        result = await conn.execute(delete(person_keys).where(person_keys.c.person_ref == person_ref))
        return bool(result.rowcount)
