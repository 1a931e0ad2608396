"""Intake: a new complaint, its reporter's name and phone sealed with the reporter's own key."""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from complaints.application.changes import record
from complaints.application.context import ComplaintsContext
from complaints.domain import Channel, ComplaintState, Priority, file_complaint
from jinlin.store import Transaction

SHANGHAI = ZoneInfo("Asia/Shanghai")


def new_complaint_id(now: datetime) -> str:
    """Readable at the desk ("c-20261129-3fa9c2d1"): the day it was filed (Shanghai time) and 32 random bits.

    Two filings of one day collide about once in millions; a collision is refused as a version conflict, never merged.
    """
    return f"c-{now.astimezone(SHANGHAI):%Y%m%d}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class NewComplaint:
    category_code: str
    description: str
    channel: Channel
    compound_id: str
    answers: Mapping[str, object]
    building: str | None = None
    unit: str | None = None
    priority: Priority = Priority.NORMAL
    hotline_reference: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None


async def file_new_complaint(
    tx: Transaction, context: ComplaintsContext, complaint_id: str, intake: NewComplaint, at: datetime
) -> ComplaintState:
    person_ref = context.vault.new_person_ref()

    async def sealed(value: str | None) -> str | None:
        return None if value is None else await context.vault.seal(tx.connection, person_ref, value)

    new_events = file_complaint(
        context.catalogue,
        complaint_id=complaint_id,
        category_code=intake.category_code,
        answers=intake.answers,
        description=intake.description,
        channel=intake.channel,
        compound_id=intake.compound_id,
        reporter_ref=person_ref,
        at=at,
        priority=intake.priority,
        hotline_reference=intake.hotline_reference,
        building=intake.building,
        unit=intake.unit,
        reporter_name_enc=await sealed(intake.reporter_name),
        reporter_phone_enc=await sealed(intake.reporter_phone),
    )
    return await record(tx, None, new_events)
