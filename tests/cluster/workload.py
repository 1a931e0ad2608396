"""The fault suite's clients (:mod:`tests.faults.workload`), spread over every replica of a service as a load
balancer would: each attempt goes to the next replica, so a retry after a replica died lands on another one with
the same ``Idempotency-Key``. Besides filing complaints and booking payments, desk staff add notes to the complaints
they filed; a note's key is in its text, so the read-back finds it in the complaint's history.
"""

import asyncio
import itertools
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from jinlin.cli.dev_staff import dev_token
from tests.faults.checker import Attempt, Operation, Outcome, classify_answer, classify_error
from tests.faults.workload import Workload

NOTE_KEY = re.compile(r"回访记录 (\S+)")


@dataclass
class ClusterWorkload(Workload):
    complaints_replicas: list[str] = field(default_factory=list)
    escrow_replicas: list[str] = field(default_factory=list)
    filed: list[str] = field(default_factory=list)
    """Ids of the complaints acknowledged so far (the notes go to them)."""
    answered_by: Counter[str] = field(default_factory=Counter)
    """How many answers each replica gave (a 2xx or a problem)."""
    _turn: "itertools.count[int]" = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.complaints_url = self.complaints_replicas[0] if self.complaints_replicas else None
        self.escrow_url = self.escrow_replicas[0] if self.escrow_replicas else None

    def _replica_url(self, url: str) -> str:
        for first, replicas in (
            (self.complaints_url, self.complaints_replicas),
            (self.escrow_url, self.escrow_replicas),
        ):
            if first is not None and url.startswith(first):
                return replicas[next(self._turn) % len(replicas)] + url[len(first) :]
        return url

    async def _submit(self, operation: Operation, url: str, body: dict[str, Any], token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": operation.idempotency_key}
        deadline = time.monotonic() + self.patience
        backoff = 0.1
        while True:
            began = time.monotonic()
            target = self._replica_url(url)
            try:
                answer = await self.client.post(target, json=body, headers=headers, timeout=self.request_timeout)
                attempt: Attempt = classify_answer(answer, time.monotonic() - began)
                self.answered_by[target.split("/")[2]] += 1
                if attempt.outcome is Outcome.ACKNOWLEDGED and operation.kind == "complaint":
                    self.filed.append(answer.json()["complaint_id"])
            except httpx.HTTPError as error:
                attempt = classify_error(error, time.monotonic() - began)
            operation.attempts.append(attempt)
            if attempt.outcome is not Outcome.UNKNOWN or time.monotonic() + backoff > deadline:
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def add_note(self) -> Operation | None:
        if not self.filed:
            await asyncio.sleep(0.05)  # nothing to write a note on yet
            return None
        assert self.complaints_url is not None
        complaint_id = self._random.choice(self.filed)
        key = f"{self.run}-n-{next(self._numbers):06d}"
        operation = self.history.begin("note", key, uuid.uuid4().hex)
        body = {"text": f"回访记录 {key}", "visibility": "internal"}
        await self._submit(
            operation, f"{self.complaints_url}/complaints/{complaint_id}/notes", body, dev_token("intake")
        )
        return operation

    def kinds(self) -> list[Callable[[], Any]]:
        steps = super().kinds()
        if self.complaints_url is not None:
            steps.append(self.add_note)
        return steps

    async def read_back(self, token: str) -> dict[str, dict[str, list[int]]]:
        read = await super().read_back(token)
        if self.complaints_url is not None:
            read["note"] = await self._read_notes(token)
        return read

    async def _read_notes(self, token: str) -> dict[str, list[int]]:
        """Every note in the history of every complaint this workload filed, by the key in its text."""
        assert self.complaints_url is not None
        notes: dict[str, list[int]] = {}
        limit = asyncio.Semaphore(8)

        async def one(complaint_id: str) -> list[str]:
            async with limit:
                answer = await self.client.get(
                    f"{self.complaints_url}/complaints/{complaint_id}",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
            answer.raise_for_status()
            return [
                match.group(1)
                for entry in answer.json()["history"]
                if "NoteAdded" in entry["type"] and (match := NOTE_KEY.search(str(entry["data"].get("text", ""))))
            ]

        for keys in await asyncio.gather(*(one(complaint_id) for complaint_id in sorted(set(self.filed)))):
            for key in keys:
                notes.setdefault(key, []).append(0)
        return notes
