"""The mediation board, folded from ``jinlin.mediation.<EventName>.v1`` events (see ``domain.mediation_case`` for
the case page, which folds the case's whole history).

Reads: CaseOpened, ComplaintsJoinedCase, CaseReopened, CaseAccepted, CaseDeclined, CaseDeadlineExtended,
MediatorAssigned, MediatorReassigned, MeetingScheduled, MeetingCancelled, AgreementDrafted, AgreementAmended,
AgreementDiscarded, AgreementSigned, AgreementTookEffect, ObligationFulfilled, ObligationWaived, CaseClosed,
CaseEndedWithoutAgreement.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.events.envelope import CloudEvent
from staff_console.application.rows import change, fetch, occurred_at, text, utc_text
from staff_console.application.tables import mediation_cases
from staff_console.domain.words import event_name

SERVICE = "mediation"
TABLES = (mediation_cases,)
"""What this view writes: emptied and folded again by a rebuild."""
LIVE = frozenset({"opened", "accepted", "agreement_in_effect"})


async def apply(conn: AsyncConnection, event: CloudEvent) -> None:
    name, data = event_name(event.type), event.data
    case_id = str(data.get("case_id") or event.subject)
    at = occurred_at(event)
    key = {"case_id": case_id}
    stamp = {"version": event.streamversion, "updated_at": at}
    if name == "CaseOpened":
        await conn.execute(
            mediation_cases.insert().values(
                case_id=case_id,
                status="opened",
                compound_id=text(data, "compound_id"),
                category_code=text(data, "category_code"),
                reason=text(data, "reason") or "",
                complaint_count=len(data.get("complaint_ids") or []),
                meeting_count=0,
                agreement="",
                terms_total=0,
                terms_done=0,
                opened_at=at,
                **stamp,
            )
        )
        return
    row = await fetch(conn, mediation_cases, **key)
    if row is None:
        return
    values: dict[str, Any] = dict(stamp)
    if name in ("ComplaintsJoinedCase", "CaseReopened"):
        values["complaint_count"] = row["complaint_count"] + len(data.get("complaint_ids") or [])
        if name == "CaseReopened":
            values["status"] = "opened"
    elif name == "CaseAccepted":
        values |= {"status": "accepted", "due_at": utc_text(data.get("due_at"))}
    elif name == "CaseDeadlineExtended":
        values["due_at"] = utc_text(data.get("due_at"))
    elif name == "CaseDeclined":
        values["status"] = "declined"
    elif name in ("MediatorAssigned", "MediatorReassigned"):
        values["mediator"] = (data.get("mediator") or {}).get("name")
    elif name == "MeetingScheduled":
        values["meeting_count"] = row["meeting_count"] + 1
    elif name == "MeetingCancelled":
        values["meeting_count"] = max(0, row["meeting_count"] - 1)
    elif name in ("AgreementDrafted", "AgreementAmended"):
        values |= {"agreement": "drafted", "terms_total": len(data.get("terms") or []), "terms_done": 0}
    elif name == "AgreementDiscarded":
        values |= {"agreement": "", "terms_total": 0, "terms_done": 0}
    elif name == "AgreementSigned":
        values["agreement"] = "signing"
    elif name == "AgreementTookEffect":
        values |= {"agreement": "in_effect", "status": "agreement_in_effect"}
    elif name in ("ObligationFulfilled", "ObligationWaived"):
        values["terms_done"] = min(row["terms_total"], row["terms_done"] + 1)
    elif name == "CaseClosed":
        values["status"] = "closed"
    elif name == "CaseEndedWithoutAgreement":
        values["status"] = "ended_without_agreement"
    await change(conn, mediation_cases, key, **values)
