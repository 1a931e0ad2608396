"""Opening cases from escalations (the consumer's handler, on a real store, without NATS): one case per case id,
however many complaints' events and deliveries come; bad input refused for good."""

from datetime import UTC, datetime

import pytest

from jinlin.events import CloudEvent
from jinlin.messaging import PermanentError
from jinlin.store import CommandContext
from mediation.application.escalations import Escalations
from mediation.application.loading import read_case

from ..conftest import ComplaintsRelay, Desk, Service, as_role, escalation_parties, sealed_by_complaints, take_in


async def test_a_group_escalation_delivered_twice_opens_one_case(
    service: Service, complaints_relay: ComplaintsRelay
) -> None:
    client, context = service
    sealed = sealed_by_complaints()
    parties = escalation_parties(sealed)
    first, second = complaints_relay.group("case-lift-2026", ["c-1", "c-2"], parties=parties)
    assert await take_in(context, first)
    assert await take_in(context, second)
    assert not await take_in(context, first)  # the same event again: the consumer's own dedupe
    log = await context.store.read_log()
    assert [event.type for event in log] == ["jinlin.mediation.CaseOpened.v1"]
    opened = log[0]
    assert (opened.envelope.caseid, opened.envelope.subject, opened.envelope.causationid) == (
        "case-lift-2026",
        "case-lift-2026",
        first["id"],
    )
    assert opened.envelope.actor == "consumer:mediation-escalations"
    assert opened.data["escalation_event_id"] == first["id"] and opened.data["complaint_ids"] == ["c-1", "c-2"]
    # The resident's sealed name and reference are copied as they came.
    resident = opened.data["parties"][3]
    assert (resident["person_ref"], resident["person_name_enc"]) == (parties[3]["person_ref"], sealed)
    case = (await client.get("/cases/case-lift-2026", headers=as_role("mediator"))).json()
    assert case["status"] == "opened" and case["category_code"] == "electricity"


async def test_the_same_event_on_a_fresh_consumer_still_opens_nothing_more(
    service: Service, complaints_relay: ComplaintsRelay
) -> None:
    """The case remembers the escalation events it took in: a redelivery the consumer does not recognise (its
    record lost, a new durable) changes nothing either."""
    _client, context = service
    (event,) = complaints_relay.group("case-x", ["c-9"])
    await take_in(context, event)
    # The identical CloudEvent, handled without the consumer's claim on its id.
    async with context.store.transaction(CommandContext("consumer:another-durable", event["id"])) as tx:
        await Escalations(context)(tx, CloudEvent.model_validate(event))
    assert len(await context.store.read_log()) == 1


async def test_a_later_escalation_adds_complaints_and_one_after_an_ending_reopens(
    service: Service, complaints_relay: ComplaintsRelay
) -> None:
    client, context = service
    (first,) = complaints_relay.group("case-grow", ["c-1"])
    await take_in(context, first)
    more = complaints_relay.escalation("case-grow", "c-3", ["c-1", "c-3"])
    await take_in(context, more)
    state, _ = await read_case(context.store, "case-grow")
    assert state is not None and state.complaint_ids == ("c-1", "c-3")
    headers = as_role("mediator")
    declined = await client.post(
        "/cases/case-grow/decline", json={"reason": "需先行政处理", "routes_advised": ["administrative_complaint"]},
        headers=headers,
    )  # fmt: skip
    assert declined.status_code == 200
    # A sibling of the first round, escalated before the decline but delivered after it: a duplicate, not a new round.
    late = complaints_relay.escalation("case-grow", "c-3", ["c-1", "c-3"], at=datetime(2026, 11, 1, 8, 0, tzinfo=UTC))
    await take_in(context, late)
    state, _ = await read_case(context.store, "case-grow")
    assert state is not None and state.status.value == "declined"
    later = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    again = complaints_relay.escalation("case-grow", "c-1", ["c-1", "c-3"], reason="行政处理后仍未解决", at=later)
    await take_in(context, again)
    state, _ = await read_case(context.store, "case-grow")
    assert state is not None and (state.status.value, state.rounds, state.reason) == ("opened", 2, "行政处理后仍未解决")
    kinds = [event.type.split(".")[2] for event in await context.store.read_log()]
    assert kinds == ["CaseOpened", "ComplaintsJoinedCase", "CaseDeclined", "CaseEndedWithoutAgreement", "CaseReopened"]


async def test_invalid_escalations_are_refused_for_good_and_change_nothing(
    service: Service, complaints_relay: ComplaintsRelay
) -> None:
    _client, context = service
    good = complaints_relay.escalation("case-bad", "c-1", ["c-1"])
    no_parties = good | {"id": "e-1", "data": good["data"] | {"parties": []}}
    clear_name = good | {
        "id": "e-2",
        "data": good["data"] | {"parties": [{"role": "resident", "organisation": "张三"}]},
    }
    phone = good | {
        "id": "e-3",
        "data": good["data"]
        | {"parties": [{"role": "resident", "person_ref": "p-1", "person_name_enc": "13800138000"}]},
    }
    other_version = good | {"id": "e-4", "type": "jinlin.complaints.ComplaintEscalatedToMediation.v2"}
    for bad, why in (
        (no_parties, "parties"),
        (clear_name, "a party of the escalation is not valid"),
        (phone, "a party of the escalation is not valid"),
        (other_version, "is not jinlin.complaints.ComplaintEscalatedToMediation.v1"),
    ):
        with pytest.raises(PermanentError, match=why) as refused:
            await take_in(context, bad)
        assert "13800138000" not in str(refused.value) and "张三" not in str(refused.value)
    assert await context.store.read_log() == []


async def test_an_escalation_of_a_case_in_agreement_is_refused(service: Service, desk: Desk) -> None:
    _client, context = service
    await desk.agreed("case-agreed")
    log = await context.store.last_sequence()
    late = desk.relay.escalation("case-agreed", "c-new", ["c-new"])
    with pytest.raises(PermanentError, match="open a new case"):
        await take_in(context, late)
    assert await context.store.last_sequence() == log
