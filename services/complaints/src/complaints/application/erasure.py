"""Erasing a person's personal data: destroy their key and record that it happened."""

from datetime import datetime

from complaints.application.context import ComplaintsContext
from complaints.domain.erasure import PERSON_AGGREGATE, PersonalDataErased
from jinlin.store import Stream, Transaction


async def erase_person(tx: Transaction, context: ComplaintsContext, person_ref: str, reason: str, at: datetime) -> bool:
    """False when nothing is held for the person (no key: never sealed, or already erased)."""
    if not await context.vault.shred(tx.connection, person_ref):
        return False
    stream = Stream(PERSON_AGGREGATE, person_ref)
    await tx.append(
        stream,
        await tx.stream_version(stream),
        [PersonalDataErased(person_ref=person_ref, reason=reason, occurred_at=at)],
    )
    return True
