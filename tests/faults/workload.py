"""The clients of the fault tests: desk staff filing complaints and the finance desk booking escrow payments, each
operation recorded in the checker's :class:`~tests.faults.checker.History`.

A client does what a careful real one does: a fresh ``Idempotency-Key`` per command, and when the answer does not
come (a timeout, a reset connection, a service restarting), the same request again with the same key, with a
back-off, until an answer comes or its patience runs out. Operations are keyed by something the read-back shows:
a complaint's hotline reference (a 12345 referral carries one), a payment's movement id.
"""

import asyncio
import contextlib
import itertools
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from jinlin.cli.dev_staff import dev_token
from tests.faults.checker import (
    Attempt,
    History,
    Operation,
    Outcome,
    classify_answer,
    classify_error,
    read_complaints,
    read_escalations,
    read_payments,
)

COMPOUND = "fault-compound"
ACCOUNT = "acc-faults"
HOUSEHOLDS = ("h-101", "h-102", "h-201", "h-202")


@dataclass
class Workload:
    history: History
    client: httpx.AsyncClient
    complaints_url: str | None
    escrow_url: str | None
    mediation_url: str | None = None
    """When given, some complaints are also acknowledged and escalated, and mediation must open one case each."""
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    """Unique per workload: every key it makes starts with it."""
    patience: float = 60.0
    """How long a client keeps retrying an operation whose outcome it does not know."""
    request_timeout: float = 10.0
    first_attempt_timeout: float | None = None
    """An impatient client: its first attempt gives up after this long (the command may well go on and commit),
    then it retries with the same key as any other unknown outcome."""
    pause: float = 0.0
    """Think time between one client's operations."""
    _numbers: "itertools.count[int]" = field(default_factory=itertools.count)
    _random: random.Random = field(default_factory=lambda: random.Random(7))

    # -- setting up ----------------------------------------------------------------------------------------------

    async def prepare(self) -> None:
        """An active escrow account with households to pay for (skipped when escrow is not installed)."""
        if self.escrow_url is None:
            return
        steps: list[tuple[str, str, dict[str, Any]]] = [
            ("finance", "/accounts", {"account_id": ACCOUNT, "compound_id": COMPOUND, "purpose": "electricity"}),
            (
                "notary",
                f"/accounts/{ACCOUNT}/open",
                {
                    "notary_reference": "(2026)皖天证监字第99号",
                    "supervising_notary_name": "孙悦",
                    "bank_account": {
                        "bank_name": "天长农商银行",
                        "account_number": "6228-9",
                        "account_name": "故障测试",
                    },
                },
            ),
            ("finance", f"/accounts/{ACCOUNT}/activate", {}),
        ]
        for household in HOUSEHOLDS:
            home = {"household_id": household, "compound_id": COMPOUND, "label": household, "floor_area_dm2": 9000}
            steps.append(("finance", "/households", home))
        for role, path, body in steps:
            answer = await self.client.post(
                self.escrow_url + path,
                json=body,
                headers={"Authorization": f"Bearer {dev_token(role)}", "Idempotency-Key": uuid.uuid4().hex},
                timeout=30,
            )
            assert answer.status_code in (200, 201), f"setting up escrow, {path}: {answer.status_code} {answer.text}"

    # -- one operation ---------------------------------------------------------------------------------------------

    async def file_complaint(self) -> Operation:
        assert self.complaints_url is not None
        key = f"{self.run}-c-{next(self._numbers):06d}"
        body = {
            "category_code": "electricity",
            "channel": "hotline_12345",
            "hotline_reference": key,
            "compound_id": "jinyuan-huating",
            "building": "3栋",
            # Sizes that differ widely, as real descriptions do (and as a nearly full disk notices).
            "description": f"停电 {key} " + "楼道灯不亮，" * self._random.choice((1, 1, 40, 300)),
            "answers": {"issue": "power_cut"},
            "reporter": {"name": "测试居民", "phone": "13900001111"},
        }
        operation = self.history.begin("complaint", key, uuid.uuid4().hex)
        await self._submit(operation, f"{self.complaints_url}/complaints", body, dev_token("intake"))
        return operation

    async def pay(self) -> Operation:
        assert self.escrow_url is not None
        key = f"{self.run}-p-{next(self._numbers):06d}"
        amount = self._random.randint(1, 50_000)
        body = {
            "movement_id": key,
            "household_id": self._random.choice(HOUSEHOLDS),
            "amount_fen": amount,
            "channel": "wechat_pay",
            "reference": f"WX-{key}",
        }
        operation = self.history.begin("payment", key, uuid.uuid4().hex, value=amount)
        await self._submit(operation, f"{self.escrow_url}/accounts/{ACCOUNT}/payments", body, dev_token("finance"))
        return operation

    async def escalate(self) -> Operation | None:
        """A complaint filed, acknowledged and escalated: mediation's consumer must open exactly one case for it."""
        assert self.complaints_url is not None
        filed = await self.file_complaint()
        if filed.outcome is not Outcome.ACKNOWLEDGED:
            return None
        complaint_id = filed.result["complaint_id"]
        url = f"{self.complaints_url}/complaints/{complaint_id}"
        # A step on the way, retried like any command but not itself checked: the escalation is.
        acknowledged = Operation("acknowledgement", complaint_id, uuid.uuid4().hex)
        await self._submit(acknowledged, f"{url}/acknowledge", {}, dev_token("intake"))
        if acknowledged.outcome is not Outcome.ACKNOWLEDGED:
            return None
        body = {"reason": "物业与供电公司协商", "parties": [{"role": "utility", "organisation": "国网天长市供电公司"}]}
        operation = self.history.begin("escalation", complaint_id, uuid.uuid4().hex)
        await self._submit(operation, f"{url}/escalate", body, dev_token("handler"))
        return operation

    async def resend(self, operation: Operation) -> None:
        """The same request again, under the same key (a client trying once more later)."""
        assert operation.request is not None
        await self._submit(operation, *operation.request)

    async def _submit(self, operation: Operation, url: str, body: dict[str, Any], token: str) -> None:
        operation.request = (url, body, token)
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": operation.idempotency_key}
        deadline = time.monotonic() + self.patience
        backoff = 0.1
        while True:
            began = time.monotonic()
            timeout = self.request_timeout
            if self.first_attempt_timeout is not None and not operation.attempts:
                timeout = self.first_attempt_timeout
            try:
                answer = await self.client.post(url, json=body, headers=headers, timeout=timeout)
                attempt: Attempt = classify_answer(answer, time.monotonic() - began)
            except httpx.HTTPError as error:
                attempt = classify_error(error, time.monotonic() - began)
            operation.attempts.append(attempt)
            if attempt.outcome is Outcome.ACKNOWLEDGED:
                with contextlib.suppress(ValueError):
                    operation.result = answer.json()
            if attempt.outcome is not Outcome.UNKNOWN or time.monotonic() + backoff > deadline:
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    # -- load ------------------------------------------------------------------------------------------------------

    def kinds(self) -> list[Callable[[], Any]]:
        steps = ((self.file_complaint, self.complaints_url), (self.pay, self.escrow_url))
        chosen = [step for step, url in steps if url]
        if self.mediation_url and self.complaints_url:
            chosen.append(self.escalate)
        return chosen

    async def run_until(self, stop: asyncio.Event, *, clients: int) -> None:
        """``clients`` concurrent clients of each kind, each one operation after the other, until ``stop``."""

        async def client(step: Callable[[], Any]) -> None:
            while not stop.is_set():
                await step()
                if self.pause:
                    await asyncio.sleep(self.pause)

        await asyncio.gather(*(client(step) for step in self.kinds() for _ in range(clients)))

    async def run_count(self, count: int, *, clients: int) -> None:
        """``count`` operations of each kind, by ``clients`` concurrent clients per kind."""
        for step in self.kinds():
            remaining = itertools.count()

            async def client(step: Callable[[], Any] = step, remaining: "itertools.count[int]" = remaining) -> None:
                while next(remaining) < count:
                    await step()

            await asyncio.gather(*(client() for _ in range(clients)))

    # -- reading back ---------------------------------------------------------------------------------------------

    async def read_back(self, token: str) -> dict[str, dict[str, list[int]]]:
        read: dict[str, dict[str, list[int]]] = {}
        if self.complaints_url is not None:
            read["complaint"] = await read_complaints(self.client, self.complaints_url, token)
        if self.escrow_url is not None:
            read["payment"] = await read_payments(self.client, self.escrow_url, token, ACCOUNT)
        if self.mediation_url is not None and self.complaints_url is not None:
            read["escalation"] = await read_escalations(self.client, self.mediation_url, token)
        return read


class Load:
    """A workload running in the background while a fault happens: ``async with Load(workload, clients=4):``."""

    def __init__(self, workload: Workload, *, clients: int) -> None:
        self.workload = workload
        self.clients = clients
        self.stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "Load":
        self._task = asyncio.create_task(self.workload.run_until(self.stop, clients=self.clients))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self._task is not None
        await self._task  # every operation in flight finishes: its outcome is known or out of patience

    async def acknowledged_beyond(self, count: int, *, timeout: float, what: str = "", kind: str | None = None) -> None:
        """Wait until ``count`` more operations (of ``kind``) than now are acknowledged: commands are being taken."""
        target = self.acknowledged(kind) + count
        deadline = time.monotonic() + timeout
        while self.acknowledged(kind) < target:
            if self._task is not None and self._task.done():
                self._task.result()
            if time.monotonic() > deadline:
                counts = self.workload.history.counts()
                raise AssertionError(f"{count} more commands not acknowledged within {timeout:g} s {what}: {counts}")
            await asyncio.sleep(0.05)

    def acknowledged(self, kind: str | None = None) -> int:
        operations = list(self.workload.history.operations.values())
        return sum(op.outcome is Outcome.ACKNOWLEDGED for op in operations if kind is None or op.kind == kind)
