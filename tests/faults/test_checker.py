"""The checker checks: it finds what it claims to find, on made-up histories and on a real stack damaged on purpose.

A checker that always says "valid" would make every fault test pass; these tests are why the others can fail.
"""

import asyncio
import uuid

import httpx
import pytest

from jinlin.cli.dev_staff import dev_token
from tests.faults.checker import (
    Attempt,
    History,
    Outcome,
    check,
    classify_answer,
    classify_error,
    wait_drained,
)
from tests.faults.harness import check_after_healing

PROBLEM = {"content-type": "application/problem+json"}


def _answer(status: int, body: dict | None = None, **headers: str) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers={**PROBLEM, **headers})


def _problem(status: int, slug: str = "x") -> dict:
    return {"type": f"https://jinlin.example/problems/{slug}", "title": "t", "status": status}


def test_answers_are_classified_as_a_careful_client_must_read_them() -> None:
    assert classify_answer(_answer(201)).outcome is Outcome.ACKNOWLEDGED
    assert classify_answer(httpx.Response(200, headers={"idempotent-replayed": "true"})).replayed
    assert classify_answer(_answer(422, _problem(422))).outcome is Outcome.REFUSED
    assert classify_answer(_answer(503, _problem(503))).outcome is Outcome.REFUSED
    assert classify_answer(_answer(500, _problem(500))).outcome is Outcome.FAILED
    assert classify_answer(_answer(507, _problem(507))).outcome is Outcome.FAILED
    # Not a problem body: a proxy's page, a half-written answer: nothing is known.
    assert classify_answer(_answer(502)).outcome is Outcome.UNKNOWN
    assert classify_answer(httpx.Response(500, text="oops")).outcome is Outcome.UNKNOWN
    # The first attempt with this key is still running: no answer yet.
    in_flight = _problem(409, "idempotency-key-in-flight")
    assert classify_answer(_answer(409, in_flight)).outcome is Outcome.UNKNOWN
    assert classify_answer(_answer(409, _problem(409, "version-conflict"))).outcome is Outcome.REFUSED
    assert classify_error(httpx.ReadTimeout("slow")).outcome is Outcome.UNKNOWN


def _history(*operations: tuple[str, list[Outcome], int]) -> History:
    history = History()
    for key, outcomes, value in operations:
        op = history.begin("payment", key, uuid.uuid4().hex, value)
        op.attempts += [Attempt(outcome, None, "") for outcome in outcomes]
    return history


def test_the_verdict_names_every_kind_of_anomaly() -> None:
    ack, refused, failed, unknown = Outcome.ACKNOWLEDGED, Outcome.REFUSED, Outcome.FAILED, Outcome.UNKNOWN
    history = _history(
        ("kept", [ack], 100),
        ("lost", [ack], 100),
        ("retried-then-kept", [unknown, ack], 100),
        ("doubled", [unknown, ack], 100),
        ("refused-but-done", [refused], 100),
        ("failed-but-done", [failed], 100),
        ("unknown-absent", [unknown], 100),
        ("unknown-present", [unknown], 100),
        ("changed", [ack], 100),
    )
    read = {
        "kept": [100],
        "retried-then-kept": [100],
        "doubled": [100, 100],
        "refused-but-done": [100],
        "failed-but-done": [100],
        "unknown-present": [100],
        "changed": [99],
        "never-sent": [5],
    }
    verdict = check(history, "payment", read)
    assert not verdict.valid
    assert verdict.lost == {"lost"}
    assert verdict.duplicated == {"doubled": 2}
    assert verdict.unexpected == {"never-sent"}
    assert verdict.resurrected == {"refused-but-done", "failed-but-done"}
    assert verdict.altered == {"changed": (100, [99])}
    counts = history.counts()
    assert (counts.acknowledged, counts.refused, counts.failed, counts.unknown) == (5, 1, 1, 2)
    assert counts.interrupted == 4

    clean = {key: values[:1] for key, values in read.items() if key not in ("never-sent", "changed")}
    clean |= {"lost": [100], "changed": [100]}
    clean = {key: values for key, values in clean.items() if key not in ("refused-but-done", "failed-but-done")}
    assert check(history, "payment", clean).valid


async def test_the_checker_catches_damage_done_to_a_real_stack(stacks, workload_on, client) -> None:
    """A throwaway run: a clean check first, then a row deleted, a complaint nobody attempted, a duplicate, an amount
    changed and an event deleted, each of which the checker (or the audit) must name; then a relay that cannot
    drain, which the wait for healing must report instead of waiting forever."""
    stack = stacks()
    workload = await workload_on(stack)
    await workload.run_count(6, clients=2)
    clean = await check_after_healing(stack, workload, client)
    clean.assert_valid()

    complaints = [op.key for op in workload.history.of("complaint")]
    payments = [op.key for op in workload.history.of("payment")]
    deleted = stack.tamper("complaints", "DELETE FROM complaint_view WHERE hotline_reference = ?", complaints[0])
    changed = stack.tamper(
        "billing-escrow",
        "UPDATE escrow_posting_view SET bank_change_fen = bank_change_fen + 1 WHERE movement_id = ?",
        payments[0],
    )
    assert deleted == changed == 1
    intake = {"Authorization": f"Bearer {dev_token('intake')}"}
    for reference in (complaints[1], f"{workload.run}-rogue-1"):  # a second complaint with a key, one with a new key
        body = {
            "category_code": "electricity",
            "channel": "hotline_12345",
            "hotline_reference": reference,
            "compound_id": "jinyuan-huating",
            "description": "not in the history",
            "answers": {"issue": "power_cut"},
        }
        answer = await client.post(f"{workload.complaints_url}/complaints", json=body, headers=intake)
        assert answer.status_code == 201, answer.text
    last = stack.query("complaints", "SELECT max(sequence) FROM events")[0][0]

    damaged = await check_after_healing(stack, workload, client, console_timeout=2)
    assert damaged.verdict("complaint").lost == {complaints[0]}
    assert damaged.verdict("complaint").duplicated == {complaints[1]: 2}
    assert damaged.verdict("complaint").unexpected == {f"{workload.run}-rogue-1"}
    assert set(damaged.verdict("payment").altered) == {payments[0]}
    assert any("journal's payments" in anomaly for anomaly in damaged.anomalies), damaged.anomalies
    assert any("the console holds" in anomaly for anomaly in damaged.anomalies), damaged.anomalies
    assert damaged.audit is not None and damaged.audit.complete

    stack.tamper("complaints", "DELETE FROM events WHERE sequence = ?", last)
    audit = await asyncio.to_thread(stack.audit)
    assert audit.exit_code == 1 and not audit.services["complaints"].ok, audit.output
    assert f"position {last}" in audit.output

    await asyncio.to_thread(stack.kill_nats)
    await workload.run_count(2, clients=1)  # committed, and nowhere to publish them
    with pytest.raises(AssertionError, match="relay and consumer lag drained"):
        await wait_drained(client, {"complaints": workload.complaints_url}, timeout=3)
