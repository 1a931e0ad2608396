"""The complaints queue, folded from ``jinlin.complaints.<EventName>.v1`` events.

Reads: ComplaintFiled, ComplaintAcknowledged, ComplaintAssigned, ComplaintReassigned, InformationRequested,
InformationReceived, ExtensionApproved, ComplaintResolved, CallBackRecorded, ComplaintClosed, ComplaintReopened,
ComplaintWithdrawn, ComplaintMarkedOverdue, ComplaintMarkedDuplicate, ComplaintLinkedToCase,
ComplaintEscalatedToMediation, ComplaintResolvedByAgreement, ComplaintReturnedFromMediation. Each row also keeps
the complaint's stream version (``streamversion`` of its last event), which the console sends as ``If-Match``.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.events.envelope import CloudEvent
from staff_console.application.rows import change, fetch, occurred_at, text, utc_text
from staff_console.application.tables import complaints
from staff_console.domain.words import event_name

SERVICE = "complaints"
TABLES = (complaints,)
"""What this view writes: emptied and folded again by a rebuild."""
DEADLINE_APPLIES = frozenset({"filed", "acknowledged", "assigned", "awaiting_information", "escalated"})
ENDED = frozenset({"closed", "withdrawn", "duplicate"})


def is_overdue(row: dict[str, Any], now: str) -> bool:
    """Marked overdue, or still bound by its deadline and past it (a paused clock stopped at ``paused_at``)."""
    if row["status"] not in DEADLINE_APPLIES:
        return False
    return bool(row["overdue_marked"]) or row["due_at"] < (row["paused_at"] or now)


def _handling_status(row: dict[str, Any]) -> str:
    return "assigned" if row["assignee_id"] else "acknowledged"


async def apply(conn: AsyncConnection, event: CloudEvent) -> None:
    name, data = event_name(event.type), event.data
    complaint_id = str(data.get("complaint_id") or event.subject)
    at = occurred_at(event)
    stamp = {"version": event.streamversion, "updated_at": at}
    key = {"complaint_id": complaint_id}
    if name == "ComplaintFiled":
        await conn.execute(
            complaints.insert().values(
                complaint_id=complaint_id,
                case_id=event.caseid,
                status="filed",
                category_code=text(data, "category_code") or "",
                compound_id=text(data, "compound_id") or "",
                building=text(data, "building"),
                unit=text(data, "unit"),
                channel=text(data, "channel") or "",
                priority=text(data, "priority") or "normal",
                description=text(data, "description") or "",
                due_at=utc_text(data.get("due_at")) or at,
                overdue_marked=False,
                filed_at=at,
                **stamp,
            )
        )
        return
    row = await fetch(conn, complaints, **key)
    if row is None:
        return
    values: dict[str, Any] = dict(stamp)
    if name == "ComplaintAcknowledged":
        values["status"] = "acknowledged"
    elif name in ("ComplaintAssigned", "ComplaintReassigned"):
        assignee = data.get("assignee") or {}
        values |= {"assignee_kind": assignee.get("kind"), "assignee_id": assignee.get("id")}
        values["assignee_name"] = assignee.get("name")
        if row["status"] == "acknowledged":
            values["status"] = "assigned"
    elif name == "InformationRequested":
        values |= {"status": "awaiting_information", "paused_at": at}
    elif name in ("InformationReceived", "ComplaintReopened", "ComplaintReturnedFromMediation"):
        values |= {"status": _handling_status(row), "paused_at": None, "overdue_marked": False}
        values["due_at"] = utc_text(data.get("due_at")) or row["due_at"]
    elif name == "ExtensionApproved":
        values |= {"due_at": utc_text(data.get("due_at")) or row["due_at"], "overdue_marked": False}
    elif name == "ComplaintResolved":
        values |= {"status": "resolved", "resolved_at": at}
    elif name == "CallBackRecorded":
        values |= {"last_outcome": text(data, "outcome"), "satisfaction": data.get("satisfaction")}
    elif name == "ComplaintClosed":
        values |= {"status": "closed", "closed_at": at}
    elif name == "ComplaintWithdrawn":
        values |= {"status": "withdrawn", "closed_at": at}
    elif name == "ComplaintMarkedOverdue":
        values["overdue_marked"] = True
    elif name == "ComplaintMarkedDuplicate":
        values |= {"status": "duplicate", "case_id": text(data, "case_id") or row["case_id"], "closed_at": at}
    elif name == "ComplaintLinkedToCase":
        values["case_id"] = text(data, "case_id") or row["case_id"]
    elif name == "ComplaintEscalatedToMediation":
        values["status"] = "escalated"
    elif name == "ComplaintResolvedByAgreement":
        values |= {"status": "resolved_by_agreement", "resolved_at": at}
    await change(conn, complaints, key, **values)
