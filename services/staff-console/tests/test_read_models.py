"""The consumers' handler: every event enters the log once, the views follow, surprises are refused loudly."""

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from jinlin.events.envelope import CloudEvent
from jinlin.messaging.consumer import PermanentError
from jinlin.store.records import CommandContext
from jinlin.store.store import EventStore
from staff_console.application import queries
from staff_console.application.live import LiveHub
from staff_console.application.projector import ConsoleProjector
from staff_console.application.tables import console_metadata
from staff_console.application.timeline_service import case_timeline
from staff_console.bootstrap import build_store

NOW = "2026-11-29T03:00:00.000000+00:00"


@pytest_asyncio.fixture
async def store(sqlite_url: str) -> AsyncIterator[EventStore]:
    store = build_store(sqlite_url)
    await store.create_schema(console_metadata)
    yield store
    await store.close()


async def deliver(store: EventStore, projector: ConsoleProjector, *events: CloudEvent) -> None:
    for event in events:
        async with store.transaction(CommandContext(actor="consumer:test", causationid=event.id)) as tx:
            await projector(tx, event)


async def test_a_complaint_moves_through_the_queue(store: EventStore, service_log: Callable[..., Any]) -> None:
    log = service_log("complaints")
    assignee = {"kind": "handler", "id": "dev-handler", "name": "王强"}
    await deliver(
        store,
        ConsoleProjector("COMPLAINTS"),
        log.add(
            "ComplaintFiled",
            "c-1",
            {
                "complaint_id": "c-1",
                "category_code": "electricity",
                "compound_id": "jinyuan-huating",
                "channel": "phone",
                "priority": "urgent",
                "description": "停电",
                "due_at": "2026-11-29T02:30:00Z",
            },
        ),
        log.add("ComplaintAcknowledged", "c-1", {"complaint_id": "c-1"}),
        log.add("ComplaintAssigned", "c-1", {"complaint_id": "c-1", "assignee": assignee}),
    )
    async with store.engines.reader.connect() as conn:
        row = await queries.complaint(conn, "c-1", NOW)
        mine = await queries.complaint_queue(conn, "mine", staff_id="dev-handler", team=(), now=NOW)
        feed = await queries.feed(conn, {"complaints"}, compound="jinyuan-huating")
    assert row is not None
    assert (row["status"], row["assignee_name"], row["version"]) == ("assigned", "王强", 3)
    assert row["overdue"], "due at 02:30, still open at 03:00"
    assert [r["complaint_id"] for r in mine] == ["c-1"]
    assert len(feed) == 3, "later events inherit the compound named when the complaint was filed"


async def test_an_unknown_event_type_still_enters_the_log(store: EventStore, service_log: Callable[..., Any]) -> None:
    log = service_log("complaints")
    await deliver(store, ConsoleProjector("COMPLAINTS"), log.add("SomethingNew", "c-9", {"shape": ["unexpected"]}))
    async with store.engines.reader.connect() as conn:
        rows = await queries.feed(conn, {"complaints"})
    assert [row["type"] for row in rows] == ["jinlin.complaints.SomethingNew.v1"]


async def test_a_view_that_cannot_fold_an_event_does_not_lose_it(
    store: EventStore, service_log: Callable[..., Any]
) -> None:
    async def broken(_conn: Any, _event: CloudEvent) -> None:
        raise KeyError("unexpected shape")

    log = service_log("escrow")
    await deliver(store, ConsoleProjector("ESCROW", views={"escrow": broken}), log.add("PaymentReceived", "a-1"))
    async with store.engines.reader.connect() as conn:
        assert len(await queries.feed(conn, {"escrow"})) == 1


async def test_redelivery_is_ignored_and_a_different_event_at_a_held_position_is_refused(
    store: EventStore, service_log: Callable[..., Any]
) -> None:
    projector = ConsoleProjector("COMPLAINTS")
    first = service_log("complaints").add("ComplaintFiled", "c-1", {"complaint_id": "c-1"})
    impostor = service_log("complaints").add("ComplaintFiled", "c-2", {"complaint_id": "c-2"})
    await deliver(store, projector, first, first)
    with pytest.raises(PermanentError, match="complaints #1 is already held by event"):
        await deliver(store, projector, impostor)
    async with store.engines.reader.connect() as conn:
        assert [row["id"] for row in await queries.feed(conn, {"complaints"})] == [first.id]


async def test_escrow_balances_payments_out_and_the_handover(
    store: EventStore, service_log: Callable[..., Any]
) -> None:
    log = service_log("escrow")

    def legs(*pairs: tuple[str, str, int]) -> list[dict[str, Any]]:
        return [{"account": account, "side": side, "amount_fen": amount} for account, side, amount in pairs]

    await deliver(
        store,
        ConsoleProjector("ESCROW"),
        log.add("HandoverStarted", "jyht", {"compound_id": "jyht", "household_ids": ["h-1", "h-2"]}),
        log.add("HouseholdRegistered", "h-1", {"household_id": "h-1", "compound_id": "jyht", "label": "3栋301"}),
        log.add(
            "EscrowAccountRequested", "acc-1", {"account_id": "acc-1", "compound_id": "jyht", "purpose": "electricity"}
        ),
        log.add("EscrowAccountActivated", "acc-1", {"account_id": "acc-1"}),
        log.add(
            "PaymentReceived",
            "acc-1",
            {
                "account_id": "acc-1",
                "household_id": "h-1",
                "amount_fen": 50000,
                "legs": legs(("escrow_bank", "debit", 50000), ("household:h-1", "credit", 50000)),
            },
        ),
        log.add(
            "DisbursementRequested",
            "acc-1",
            {
                "account_id": "acc-1",
                "disbursement_id": "d-1",
                "order": {"amount_fen": 30000, "payee": {"name": "国网天长市供电公司"}, "evidence": ["确认函"]},
                "charges": [{"household_id": "h-1", "amount_fen": 30000}],
                "required_roles": ["center_finance", "notary"],
                "legs": legs(("household:h-1", "debit", 30000), ("reserved:h-1", "credit", 30000)),
            },
        ),
        log.add(
            "DisbursementSigned",
            "acc-1",
            {"account_id": "acc-1", "disbursement_id": "d-1", "role": "center_finance", "signer_id": "dev-finance"},
        ),
        log.add(
            "HouseholdMeterInstalled", "jyht", {"compound_id": "jyht", "household_id": "h-1", "meter_number": "M-1"}
        ),
    )
    async with store.engines.reader.connect() as conn:
        account = await queries.escrow_account(conn, "acc-1")
        ledgers = await queries.household_ledgers(conn, "acc-1")
        pending = await queries.account_disbursements(conn, status="requested")
        handover = await queries.handover(conn, "jyht")
        household_events = await queries.household_events(conn, "h-1")
    assert account is not None
    assert (account["status"], account["balance_fen"], account["reserved_fen"]) == ("active", 50000, 30000)
    assert ledgers == [
        {
            "household_id": "h-1",
            "label": "3栋301",
            "held_fen": 20000,
            "reserved_fen": 30000,
            "billed_fen": 0,
            "share_fen": None,
        }
    ]
    assert queries.awaiting(pending[0], {"notary"}, "dev-notary")
    assert not queries.awaiting(pending[0], {"center_finance"}, "dev-finance2"), "finance already signed"
    assert handover is not None and (handover["households_total"], handover["installed"]) == (2, 1)
    assert len(household_events) == 4, "registered, paid in, charged for the payment out, meter installed"


async def test_the_hub_hears_of_an_event_only_after_it_committed(
    store: EventStore, service_log: Callable[..., Any]
) -> None:
    async def read_after(received: int) -> list[dict[str, Any]]:
        async with store.engines.reader.connect() as conn:
            return await queries.read_after(conn, received)

    hub = LiveHub(read_after)
    event = service_log("complaints").add("ComplaintFiled", "c-1", {"complaint_id": "c-1"})
    async with hub.subscribe() as queue:
        async with store.transaction(CommandContext(actor="t", causationid="t")) as tx:
            await ConsoleProjector("COMPLAINTS", hub)(tx, event)
            assert not hub._wake.is_set(), "no poke before the commit"
        assert hub._wake.is_set(), "poked by the commit"
        assert await hub.broadcast_new() == 1
        assert (await queue.get())["id"] == event.id


async def test_the_case_timeline_crosses_services_and_verifies(
    store: EventStore, service_log: Callable[..., Any]
) -> None:
    complaints, mediation, escrow = service_log("complaints"), service_log("mediation"), service_log("escrow")
    filed = complaints.add("ComplaintFiled", "c-1", {"complaint_id": "c-1"}, caseid="c-1")
    escalated = complaints.add("ComplaintEscalatedToMediation", "c-1", {"complaint_id": "c-1"}, caseid="c-1")
    opened = mediation.add("CaseOpened", "m-1", {"case_id": "m-1"}, caseid="c-1", causationid=escalated.id)
    # An escrow payment carries its own case id; the term it fulfils names it as its cause.
    later = complaints.clock + timedelta(minutes=5)
    paid = escrow.add("ArrearsPaid", "jyht", {"compound_id": "jyht", "amount_fen": 100}, caseid="jyht", at=later)
    fulfilled = mediation.add("ObligationFulfilled", "m-1", {"term_id": "1"}, caseid="c-1", causationid=paid.id)
    unrelated = escrow.add("PaymentReceived", "acc-1", {"account_id": "acc-1"}, caseid="acc-1")
    await deliver(store, ConsoleProjector("COMPLAINTS"), filed, escalated)
    await deliver(store, ConsoleProjector("MEDIATION"), opened, fulfilled)
    await deliver(store, ConsoleProjector("ESCROW"), paid, unrelated)
    async with store.engines.reader.connect() as conn:
        timeline = await case_timeline(conn, "c-1", {"complaints", "mediation", "escrow"})
        only_complaints = await case_timeline(conn, "c-1", {"complaints"})
    assert [entry.event.id for entry in timeline] == [filed.id, escalated.id, opened.id, paid.id, fulfilled.id]
    assert all(entry.verification.content_ok for entry in timeline)
    assert timeline[0].verification.verified and timeline[2].verification.verified
    assert timeline[4].cause is not None and timeline[4].cause.id == paid.id, "the payment is why the term is met"
    assert [entry.event.service for entry in only_complaints] == ["complaints", "complaints"]
