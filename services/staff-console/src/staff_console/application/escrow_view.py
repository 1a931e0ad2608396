"""Escrow accounts, balances, payments out, households and the handover, folded from ``jinlin.escrow.*.v1``.

Reads (account): EscrowAccountRequested, EscrowAccountOpened, EscrowAccountActivated, EscrowAccountFrozen,
EscrowAccountUnfrozen, EscrowAccountClosed, EscrowAccountReopened, PaymentReceived, DisbursementRequested,
DisbursementSigned, DisbursementExecuted, DisbursementVoided, DisbursementExpired, and the ``legs`` of any event
that carries them (every money movement: balances are the legs added up, so a new kind of movement needs no code).
Reads (household): HouseholdRegistered, BillIssued, BillCancelled. Reads (handover): HandoverStarted,
OwnersVoteRecorded, HandoverEscrowOpened, ArrearsConfirmed, ArrearsAllocated, ArrearsPaid, HouseholdMeterInstalled,
HouseholdSupplySwitched, FacilitiesTransferred, HandoverCompleted.
"""

import json
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.events.envelope import CloudEvent
from staff_console.application.rows import change, fetch, integer, occurred_at, text, upsert, utc_text
from staff_console.application.tables import (
    balance_points,
    bills,
    disbursements,
    escrow_accounts,
    event_households,
    handover_households,
    handovers,
    households,
    ledger_balances,
)
from staff_console.domain.words import event_name

SERVICE = "escrow"
TABLES = (
    escrow_accounts,
    ledger_balances,
    balance_points,
    disbursements,
    households,
    bills,
    event_households,
    handovers,
    handover_households,
)
"""What this view writes: emptied and folded again by a rebuild."""
BANK = "escrow_bank"


def households_named(data: dict[str, Any]) -> set[str]:
    """Every household an event's data names (to list it on that household's page)."""
    named = {str(data[key]) for key in ("household_id", "from_household_id", "to_household_id") if data.get(key)}
    for charge in data.get("charges") or []:
        if isinstance(charge, dict) and charge.get("household_id"):
            named.add(str(charge["household_id"]))
    return named


async def apply(conn: AsyncConnection, event: CloudEvent) -> None:
    data = event.data
    for household_id in households_named(data):
        await conn.execute(insert(event_households).values(household_id=household_id, event_id=event.id))
    name = event_name(event.type)
    if "account_id" in data and name not in _HANDOVER and name != "StatementIssued":
        await _account(conn, event, name)
    elif "household_id" in data and name in _HOUSEHOLD:
        await _household(conn, event, name)
    elif name in _HANDOVER:
        await _handover(conn, event, name)


async def _account(conn: AsyncConnection, event: CloudEvent, name: str) -> None:
    data, at = event.data, occurred_at(event)
    account_id = str(data["account_id"])
    key = {"account_id": account_id}
    stamp = {"version": event.streamversion, "updated_at": at}
    if name == "EscrowAccountRequested":
        await upsert(
            conn,
            escrow_accounts,
            key,
            {
                "compound_id": text(data, "compound_id"),
                "purpose": text(data, "purpose"),
                "status": "requested",
                "holds": 0,
                "balance_fen": 0,
                "reserved_fen": 0,
                "paid_in_fen": 0,
                "paid_out_fen": 0,
                **stamp,
            },
        )
        return
    account = await fetch(conn, escrow_accounts, **key)
    if account is None:
        return
    values: dict[str, Any] = dict(stamp)
    if name == "EscrowAccountOpened":
        bank = data.get("bank_account") or {}
        values |= {"status": "opened", "notary_name": text(data, "supervising_notary_name")}
        values |= {"notary_reference": text(data, "notary_reference"), "bank_name": bank.get("bank_name")}
        values["bank_account"] = bank.get("account_number")
    elif name in ("EscrowAccountActivated", "EscrowAccountReopened"):
        values["status"] = "active"
    elif name == "EscrowAccountFrozen":
        values |= {"status": "frozen", "holds": account["holds"] + 1}
    elif name == "EscrowAccountUnfrozen":
        holds = max(0, account["holds"] - 1)
        values |= {"holds": holds, "status": "frozen" if holds else "active"}
    elif name == "EscrowAccountClosed":
        values["status"] = "closed"
    elif name == "PaymentReceived":
        values["paid_in_fen"] = account["paid_in_fen"] + integer(data.get("amount_fen"))
    elif name == "DisbursementExecuted":
        values["paid_out_fen"] = account["paid_out_fen"] + integer(data.get("amount_fen"))
    if isinstance(data.get("legs"), list):
        values |= await _post_legs(conn, account_id, data["legs"], at)
    await change(conn, escrow_accounts, key, **values)
    if name.startswith("Disbursement"):
        await _disbursement(conn, event, name, account_id, at)


async def _post_legs(conn: AsyncConnection, account_id: str, legs: list[Any], at: str) -> dict[str, int]:
    for leg in legs:
        if not isinstance(leg, dict) or not isinstance(leg.get("account"), str):
            continue
        signed = integer(leg.get("amount_fen")) * (1 if leg.get("side") == "debit" else -1)
        key = {"account_id": account_id, "ledger_account": leg["account"]}
        current = await fetch(conn, ledger_balances, **key)
        await upsert(conn, ledger_balances, key, {"signed_fen": (current["signed_fen"] if current else 0) + signed})
    rows = (
        await conn.execute(
            select(ledger_balances.c.ledger_account, ledger_balances.c.signed_fen).where(
                ledger_balances.c.account_id == account_id
            )
        )
    ).all()
    bank = sum(row.signed_fen for row in rows if row.ledger_account == BANK)
    reserved = -sum(row.signed_fen for row in rows if row.ledger_account.startswith("reserved:"))
    await conn.execute(insert(balance_points).values(account_id=account_id, time=at, balance_fen=bank))
    return {"balance_fen": bank, "reserved_fen": reserved}


async def _disbursement(conn: AsyncConnection, event: CloudEvent, name: str, account_id: str, at: str) -> None:
    data = event.data
    key = {"account_id": account_id, "disbursement_id": str(data.get("disbursement_id"))}
    if name == "DisbursementRequested":
        order = data.get("order") or {}
        condition = order.get("condition") or {}
        await upsert(
            conn,
            disbursements,
            key,
            {
                "status": "requested",
                "amount_fen": integer(order.get("amount_fen")),
                "payee_name": str((order.get("payee") or {}).get("name") or ""),
                "condition_code": condition.get("code"),
                "condition_text": condition.get("text"),
                "evidence": json.dumps(order.get("evidence") or [], ensure_ascii=False),
                "required_roles": json.dumps(data.get("required_roles") or []),
                "signatures": "[]",
                "requested_by": order.get("requested_by"),
                "requested_at": at,
                "expires_at": utc_text(order.get("expires_at")),
                "account_version": event.streamversion,
                "updated_at": at,
            },
        )
        return
    row = await fetch(conn, disbursements, **key)
    if row is None:
        return
    values: dict[str, Any] = {"account_version": event.streamversion, "updated_at": at}
    if name == "DisbursementSigned":
        signatures = json.loads(row["signatures"])
        signatures.append({"role": data.get("role"), "signer_id": data.get("signer_id"), "signed_at": at})
        values["signatures"] = json.dumps(signatures)
    elif name in ("DisbursementExecuted", "DisbursementVoided", "DisbursementExpired"):
        values["status"] = name.removeprefix("Disbursement").lower()
    await change(conn, disbursements, key, **values)


_HOUSEHOLD = frozenset({"HouseholdRegistered", "BillIssued", "BillCancelled", "FloorAreaCorrected"})


async def _household(conn: AsyncConnection, event: CloudEvent, name: str) -> None:
    data = event.data
    household_id = str(data["household_id"])
    key = {"household_id": household_id}
    if name == "HouseholdRegistered":
        values = {"compound_id": text(data, "compound_id"), "label": text(data, "label")}
        values["floor_area_dm2"] = data.get("floor_area_dm2")
        existing = await fetch(conn, households, **key)
        await upsert(conn, households, key, values | ({} if existing else {"billed_fen": 0}))
        return
    await _ensure_household(conn, household_id)
    household = await fetch(conn, households, **key)
    assert household is not None
    if name == "FloorAreaCorrected":
        await change(conn, households, key, floor_area_dm2=data.get("floor_area_dm2"))
    elif name == "BillIssued":
        amount = integer(data.get("amount_fen"))
        await upsert(
            conn,
            bills,
            {"bill_id": str(data.get("bill_id"))},
            {
                "household_id": household_id,
                "purpose": text(data, "purpose"),
                "period": text(data, "period"),
                "amount_fen": amount,
                "due_on": text(data, "due_on"),
                "cancelled": False,
            },
        )
        await change(conn, households, key, billed_fen=household["billed_fen"] + amount)
    elif name == "BillCancelled":
        bill = await fetch(conn, bills, bill_id=str(data.get("bill_id")))
        if bill is not None and not bill["cancelled"]:
            await change(conn, bills, {"bill_id": bill["bill_id"]}, cancelled=True)
            await change(conn, households, key, billed_fen=household["billed_fen"] - bill["amount_fen"])


async def _ensure_household(conn: AsyncConnection, household_id: str, compound_id: str | None = None) -> None:
    if await fetch(conn, households, household_id=household_id) is None:
        await conn.execute(insert(households).values(household_id=household_id, compound_id=compound_id, billed_fen=0))


_HANDOVER = frozenset(
    {
        "HandoverStarted",
        "OwnersVoteRecorded",
        "HandoverEscrowOpened",
        "ArrearsConfirmed",
        "ArrearsAllocated",
        "ArrearsPaid",
        "HouseholdMeterInstalled",
        "HouseholdSupplySwitched",
        "FacilitiesTransferred",
        "HandoverCompleted",
    }
)


async def _handover(conn: AsyncConnection, event: CloudEvent, name: str) -> None:
    data, at = event.data, occurred_at(event)
    compound_id = str(data.get("compound_id") or event.subject)
    key = {"compound_id": compound_id}
    if name == "HandoverStarted":
        household_ids = [str(h) for h in data.get("household_ids") or []]
        await upsert(
            conn,
            handovers,
            key,
            {
                "status": "started",
                "households_total": len(household_ids),
                "allocated": False,
                "paid_fen": 0,
                "fully_paid": False,
                "facilities_transferred": False,
                "started_at": at,
                "updated_at": at,
            },
        )
        for household_id in household_ids:
            await _ensure_household(conn, household_id, compound_id)
            if await fetch(conn, handover_households, compound_id=compound_id, household_id=household_id) is None:
                await conn.execute(
                    insert(handover_households).values(compound_id=compound_id, household_id=household_id)
                )
        return
    if await fetch(conn, handovers, **key) is None:
        return
    values: dict[str, Any] = {"updated_at": at}
    if name == "OwnersVoteRecorded":
        values["vote_passed"] = bool(data.get("passed"))
    elif name == "HandoverEscrowOpened":
        values["escrow_account_id"] = text(data, "account_id")
    elif name == "ArrearsConfirmed":
        values |= {"arrears_fen": integer(data.get("amount_fen"))}
        values["creditor"] = (data.get("creditor") or {}).get("name")
    elif name == "ArrearsAllocated":
        values["allocated"] = True
        for share in data.get("shares") or []:
            if isinstance(share, dict) and share.get("household_id"):
                await _ensure_household(conn, str(share["household_id"]), compound_id)
                await change(
                    conn, households, {"household_id": str(share["household_id"])}, share_fen=share.get("amount_fen")
                )
    elif name == "ArrearsPaid":
        values |= {"paid_fen": integer(data.get("paid_to_date_fen")), "fully_paid": bool(data.get("fully_paid"))}
    elif name in ("HouseholdMeterInstalled", "HouseholdSupplySwitched"):
        household_id = str(data.get("household_id"))
        await _ensure_household(conn, household_id, compound_id)
        column = "meter_installed_at" if name == "HouseholdMeterInstalled" else "switched_at"
        await change(
            conn, households, {"household_id": household_id}, meter_number=text(data, "meter_number"), **{column: at}
        )
    elif name == "FacilitiesTransferred":
        values["facilities_transferred"] = True
    elif name == "HandoverCompleted":
        values |= {"status": "completed", "completed_at": at}
    await change(conn, handovers, key, **values)
