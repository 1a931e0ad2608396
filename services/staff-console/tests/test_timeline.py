"""The timeline's order and its checks of each event against its service's chain."""

from collections.abc import Callable
from typing import Any

from jinlin.events.chain import event_hash
from staff_console.domain.timeline import ChainLink, LinkState, LoggedEvent, build_timeline, causal_order, verify_event


def _link(event: Any) -> ChainLink:
    return ChainLink(event.sequence, event.hash, event.prevhash)


def test_an_intact_event_linked_both_ways_is_verified(service_log: Callable[..., Any]) -> None:
    log = service_log("complaints")
    first, second, third = (log.add(name, "c-1") for name in ("ComplaintFiled", "ComplaintAcknowledged", "NoteAdded"))
    result = verify_event(second, _link(first), _link(third))
    assert result.verified
    assert (result.back, result.forward) == (LinkState.OK, LinkState.OK)
    assert verify_event(first, None, _link(second)).verified, "the first event links to the genesis hash"


def test_altered_content_is_caught_by_its_hash(service_log: Callable[..., Any], tamper: Callable[..., Any]) -> None:
    log = service_log("complaints")
    first = log.add("ComplaintFiled", "c-1", {"description": "停电"})
    second = log.add("ComplaintAcknowledged", "c-1")
    result = verify_event(tamper(first, description="一切正常"), None, _link(second))
    assert not result.verified
    assert "content does not match its hash" in result.problems


def test_a_rehashed_forgery_is_caught_by_its_neighbours(service_log: Callable[..., Any]) -> None:
    log = service_log("complaints")
    first, second, third = (log.add(name, "c-1") for name in ("ComplaintFiled", "ComplaintResolved", "NoteAdded"))
    fields = second.model_dump() | {"data": {**second.data, "resolution_note": "forged"}}
    fields["hash"] = event_hash({k: v for k, v in fields.items() if k != "hash"})
    forged = type(second).model_validate(fields)
    result = verify_event(forged, _link(first), _link(third))
    assert result.content_ok, "the forger recomputed the hash"
    assert result.forward is LinkState.BROKEN
    assert not result.verified


def test_a_missing_predecessor_is_not_claimed_verified(service_log: Callable[..., Any]) -> None:
    log = service_log("escrow")
    _, second = log.add("PaymentReceived", "a-1"), log.add("PaymentReceived", "a-1")
    result = verify_event(second, None, None)
    assert result.back is LinkState.NOT_RECEIVED
    assert not result.verified


def test_effects_never_precede_their_causes_even_with_a_clock_running_behind(
    service_log: Callable[..., Any],
) -> None:
    complaints, mediation = service_log("complaints"), service_log("mediation")
    escalated = complaints.add("ComplaintEscalatedToMediation", "c-1", caseid="case-1")
    # The mediation service's clock is two minutes behind the complaints service's.
    opened = mediation.add(
        "CaseOpened",
        "case-1",
        caseid="case-1",
        causationid=escalated.id,
        at=complaints.clock.replace(minute=58, hour=1),
    )
    accepted = mediation.add("CaseAccepted", "case-1", caseid="case-1", at=opened_time_plus(opened, 1))
    events = [
        LoggedEvent("mediation", accepted),
        LoggedEvent("mediation", opened),
        LoggedEvent("complaints", escalated),
    ]
    ordered = [event.id for event in causal_order(events)]
    assert ordered == [escalated.id, opened.id, accepted.id]


def opened_time_plus(event: Any, seconds: int) -> Any:
    from datetime import datetime, timedelta

    return datetime.fromisoformat(event.time) + timedelta(seconds=seconds)


def test_build_timeline_links_each_event_to_its_cause(service_log: Callable[..., Any]) -> None:
    complaints, mediation = service_log("complaints"), service_log("mediation")
    filed = complaints.add("ComplaintFiled", "c-1", caseid="c-1")
    escalated = complaints.add("ComplaintEscalatedToMediation", "c-1", caseid="c-1")
    opened = mediation.add("CaseOpened", "case-9", caseid="c-1", causationid=escalated.id)
    events = [LoggedEvent("complaints", filed), LoggedEvent("complaints", escalated), LoggedEvent("mediation", opened)]
    links = {(e.service, e.sequence): _link(e.envelope) for e in events}
    timeline = build_timeline(events, links)
    assert [entry.event.id for entry in timeline] == [filed.id, escalated.id, opened.id]
    assert timeline[2].cause is not None and timeline[2].cause.id == escalated.id
    assert timeline[1].effects == (opened.id,)
    assert all(entry.verification.verified for entry in timeline[:2])


def test_charts_are_self_contained_svg_with_escaped_labels() -> None:
    from staff_console.domain import charts

    bars = charts.bar_chart([("<script>", 3), ("用电及电费欠费", 2)], title="by category")
    assert bars.startswith("<svg") and "<script>" not in bars and "&lt;script&gt;" in bars
    assert "http" not in bars.replace("http://www.w3.org/2000/svg", ""), "nothing fetched from elsewhere"
    assert charts.nice_step(7) == 2.0 and charts.nice_step(930) == 500.0
    assert "—" in charts.ratio_ring(None, title="rate", caption="")
    assert "stroke-dasharray" not in charts.ratio_ring(0.0, title="rate", caption="")
