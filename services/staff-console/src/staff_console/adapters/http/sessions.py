"""Server-side sessions: the browser holds only a random id, signed; the database holds its digest.

Cookie: ``<id>.<HMAC-SHA256(id)>``, ``HttpOnly``, ``SameSite=Lax``, ``Path=/`` (``Secure`` behind HTTPS). Each
session has its own CSRF token, which every form carries back. Signing out deletes the row, so a copied cookie
stops working at once.
"""

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select

from jinlin.store.records import CommandContext
from jinlin.store.store import EventStore
from staff_console.application.tables import sessions

SESSION_COOKIE = "jinlin_console_session"


@dataclass(frozen=True)
class Session:
    username: str
    csrf: str
    expires_at: str


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Signer:
    """HMAC signing of small values (the session id, the flash message)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, value: str) -> str:
        mac = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
        return f"{value}.{mac}"

    def unsign(self, signed: str | None) -> str | None:
        if not signed or "." not in signed:
            return None
        value, _, mac = signed.rpartition(".")
        expected = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
        return value if hmac.compare_digest(mac, expected) else None

    def pack(self, payload: dict[str, Any]) -> str:
        encoded = base64.urlsafe_b64encode(json.dumps(payload, ensure_ascii=False).encode()).decode()
        return self.sign(encoded)

    def unpack(self, signed: str | None) -> dict[str, Any] | None:
        value = self.unsign(signed)
        if value is None:
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(value.encode()))
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None


class SessionStore:
    def __init__(self, store: EventStore, signer: Signer, hours: float) -> None:
        self.store = store
        self.signer = signer
        self.lifetime = timedelta(hours=hours)

    def _context(self) -> CommandContext:
        return CommandContext(actor="staff-console", causationid=f"session-{uuid.uuid4().hex}")

    async def create(self, username: str) -> tuple[str, Session]:
        """A new session; returns the cookie value and the session."""
        session_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        session = Session(username, secrets.token_urlsafe(24), (now + self.lifetime).isoformat())
        async with self.store.transaction(self._context()) as tx:
            await tx.connection.execute(delete(sessions).where(sessions.c.expires_at < now.isoformat()))
            await tx.connection.execute(
                insert(sessions).values(
                    digest=_digest(session_id),
                    username=username,
                    csrf=session.csrf,
                    created_at=now.isoformat(),
                    expires_at=session.expires_at,
                )
            )
        return self.signer.sign(session_id), session

    async def load(self, cookie: str | None) -> Session | None:
        session_id = self.signer.unsign(cookie)
        if session_id is None:
            return None
        async with self.store.engines.reader.connect() as conn:
            row = (await conn.execute(select(sessions).where(sessions.c.digest == _digest(session_id)))).first()
        if row is None or row.expires_at < datetime.now(UTC).isoformat():
            return None
        return Session(row.username, row.csrf, row.expires_at)

    async def destroy(self, cookie: str | None) -> None:
        session_id = self.signer.unsign(cookie)
        if session_id is None:
            return
        async with self.store.transaction(self._context()) as tx:
            await tx.connection.execute(delete(sessions).where(sessions.c.digest == _digest(session_id)))
