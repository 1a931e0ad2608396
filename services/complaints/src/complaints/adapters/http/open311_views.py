"""Complaints and categories as GeoReport v2 sees them: services, service definitions and service requests.

What a GeoReport reader (the public) gets of a complaint: its category, status, the notes written for the resident,
the assignee (an official body or a staff member acting officially), the deadline and where it is: the compound
(``address_id``) and the building. Never the reporter, never the unit (a unit and a building single out a household).
"""

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from complaints.adapters.http.open311_schemas import (
    Open311Attribute,
    Open311AttributeValue,
    Open311Request,
    Open311Service,
    Open311ServiceDefinition,
)
from complaints.application.loading import complaint_stream
from complaints.domain import (
    HANDLING_TIME,
    Catalogue,
    Category,
    ComplaintResolved,
    DeadlineRule,
    NoteAdded,
    NoteVisibility,
    Priority,
    UnknownCategory,
    effective_rule,
    registry,
)
from complaints.domain.questions import LIST_DATATYPES, Question
from jinlin.store.schema import events

Language = Literal["zh", "en"]
SHANGHAI: Final = ZoneInfo("Asia/Shanghai")

# Where a GeoReport client puts the building and the unit of a complaint: two attributes every service offers.
BUILDING: Final = "building"
UNIT: Final = "unit"
PLACE_ATTRIBUTES: Final = (BUILDING, UNIT)

_NOTE_TYPES: Final = (registry.type_of(NoteAdded), registry.type_of(ComplaintResolved))


def w3_datetime(value: datetime | str | None) -> str | None:
    """The W3C/ISO 8601 form GeoReport asks for, in the center's own time zone: 2026-11-02T09:00:00+08:00."""
    if value is None:
        return None
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return instant.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _duration(rule: DeadlineRule, lang: Language) -> str:
    hours = int(HANDLING_TIME[rule] / timedelta(hours=1))
    if hours % 24:
        return f"{hours}小时" if lang == "zh" else f"{hours} hours"
    days = hours // 24
    return f"{days}天" if lang == "zh" else (f"{days} day" if days == 1 else f"{days} days")


def service_notice(rule: DeadlineRule, lang: Language = "zh") -> str:
    """What the center commits to: handling within the rule's time (the clock stops while it waits for the
    resident)."""
    if lang == "zh":
        return f"受理后{_duration(rule, lang)}内处理（等待居民补充材料的时间不计）"
    return f"Handled within {_duration(rule, lang)} (time spent waiting for the resident does not count)"


def _text(zh: str, en: str, lang: Language) -> str:
    return zh if lang == "zh" or not en else en


# -- services ---------------------------------------------------------------------------------------------------------


def service_of(category: Category, lang: Language) -> Open311Service:
    return Open311Service(
        service_code=category.code,
        service_name=_text(category.name_zh, category.name_en, lang),
        description=_text(category.description_zh, category.description_en, lang),
        metadata=True,  # every service has at least the building and unit attributes
        type="realtime",
        keywords=", ".join(category.keywords),
        group=category.group,
    )


def _attribute(question: Question, order: int, lang: Language) -> Open311Attribute:
    return Open311Attribute(
        variable=True,
        code=question.code,
        datatype=question.datatype.value,
        required=question.required,
        datatype_description=question.datatype_description or None,
        order=order,
        description=_text(question.description_zh, question.description_en, lang),
        values=[
            Open311AttributeValue(key=value.key, name=_text(value.name_zh, value.name_en, lang))
            for value in question.values
        ]
        if question.datatype in LIST_DATATYPES
        else [],
    )


def _place_attribute(code: str, order: int, lang: Language) -> Open311Attribute:
    zh, en = (
        ("楼栋（如 3栋）", "Building (e.g. 3栋)")
        if code == BUILDING
        else ("单元（如 2单元；需先填楼栋）", "Unit (needs a building)")
    )
    return Open311Attribute(
        variable=True,
        code=code,
        datatype="string",
        required=False,
        datatype_description=_text("最多50字", "at most 50 characters", lang),
        order=order,
        description=_text(zh, en, lang),
        values=[],
    )


def definition_of(category: Category, lang: Language) -> Open311ServiceDefinition:
    questions = [_attribute(question, order, lang) for order, question in enumerate(category.questions, start=1)]
    place = [_place_attribute(code, len(questions) + offset, lang) for offset, code in enumerate(PLACE_ATTRIBUTES, 1)]
    return Open311ServiceDefinition(service_code=category.code, attributes=questions + place)


# -- service requests -------------------------------------------------------------------------------------------------


async def resident_notes(conn: AsyncConnection, complaint_ids: Sequence[str]) -> dict[str, list[str]]:
    """Per complaint, what was written for the resident (notes marked for them, resolution notes), oldest first."""
    if not complaint_ids:
        return {}
    rows = await conn.execute(
        select(events.c.subject, events.c.type, events.c.data)
        .where(
            events.c.stream.in_([complaint_stream(complaint_id).key for complaint_id in complaint_ids]),
            events.c.type.in_(_NOTE_TYPES),
        )
        .order_by(events.c.sequence)
    )
    notes: dict[str, list[str]] = defaultdict(list)
    for subject, event_type, raw in rows:
        data = json.loads(raw)
        if event_type == _NOTE_TYPES[0]:
            if data.get("visibility") == NoteVisibility.RESIDENT.value:
                notes[subject].append(str(data["text"]))
        else:
            notes[subject].append(str(data["resolution_note"]))
    return notes


def expected_datetime(row: Mapping[str, Any], now: datetime) -> datetime | None:
    """The deadline in force; while the clock is paused it keeps moving, so it is projected as if resumed now."""
    if not row["deadline_applies"]:
        return None
    due = datetime.fromisoformat(row["due_at"])
    if row["paused_at"]:
        due += max(now - datetime.fromisoformat(row["paused_at"]), timedelta(0))
    return due


def _updated(row: Mapping[str, Any]) -> str:
    # GeoReport: for a closed request, the moment it was closed (resolved, from the resident's point of view).
    if row["open311_status"] == "closed":
        return str(row["closed_at"] or row["resolved_at"] or row["updated_at"])
    return str(row["updated_at"])


def _category(catalogue: Catalogue, code: str) -> Category | None:
    try:
        return catalogue.get(code)
    except UnknownCategory:
        return None


def request_of(
    row: Mapping[str, Any], catalogue: Catalogue, notes: Sequence[str], now: datetime, lang: Language
) -> Open311Request:
    category = _category(catalogue, row["category_code"])
    rule = effective_rule(category.deadline_rule, Priority(row["priority"])) if category else None
    address = ", ".join(part for part in (row["building"], row["compound_id"]) if part)
    return Open311Request(
        service_request_id=row["complaint_id"],
        status=row["open311_status"],
        status_notes="\n".join(notes) or None,
        service_name=_text(category.name_zh, category.name_en, lang) if category else None,
        service_code=row["category_code"],
        description=row["description"],
        agency_responsible=row["assignee_name"],
        service_notice=service_notice(rule, lang) if rule else None,
        requested_datetime=w3_datetime(row["filed_at"]) or "",
        updated_datetime=w3_datetime(_updated(row)) or "",
        expected_datetime=w3_datetime(expected_datetime(row, now)),
        address=address or None,
        address_id=row["compound_id"],
        zipcode=None,
        lat=None,
        long=None,
        media_url=None,
    )
