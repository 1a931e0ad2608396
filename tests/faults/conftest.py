"""Fixtures of the fault suite: a real stack per test, an HTTP client, the chaos proxy, and the figures each fault
test reports (printed at the end of the run, and kept as the test's ``user_properties``)."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.checker import History
from tests.faults.harness import FaultStack
from tests.faults.proxy import ChaosProxy
from tests.faults.workload import Workload

FIGURES = "fault figures"


class Stacks:
    """``stacks()`` starts a stack; ``stacks(start=False)`` only lays it out (a proxy may need its NATS port first)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: list[FaultStack] = []

    def __call__(self, *, start: bool = True, **options: Any) -> FaultStack:
        stack = FaultStack(self.root / f"stack-{len(self.made)}", **options)
        self.made.append(stack)
        if start:
            stack.start()
        return stack

    def logs(self) -> str:
        return "\n\n".join(
            f"--- {stack.var_dir.name} {name} ---\n{stack.log(name)}" for stack in self.made for name in stack.names()
        )


@pytest.fixture
def stacks(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stacks]:
    made = Stacks(tmp_path)
    try:
        yield made
    finally:
        failed = getattr(request.node, "failed_call", False)
        if failed:
            request.node.add_report_section("teardown", "service logs", made.logs())
        for stack in reversed(made.made):
            stack.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        item.failed_call = True  # type: ignore[attr-defined]
    return report


@pytest.fixture
def proxies() -> Iterator[list[ChaosProxy]]:
    made: list[ChaosProxy] = []
    yield made
    for proxy in made:
        proxy.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=50)
    async with httpx.AsyncClient(limits=limits) as http:
        yield http


@pytest.fixture
def workload_on(client: httpx.AsyncClient) -> Any:
    """``await workload_on(stack)``: clients of that stack's complaints and escrow services (escrow set up), and of
    mediation through escalated complaints (``escalations=False``: not)."""

    async def make(stack: FaultStack, *, escalations: bool = True, **options: Any) -> Workload:
        workload = Workload(
            History(),
            client,
            stack.url("complaints") if stack.has("complaints") else None,
            stack.url("billing-escrow") if stack.has("billing-escrow") else None,
            stack.url("mediation") if escalations and stack.has("mediation") else None,
            **options,
        )
        await workload.prepare()
        return workload

    return make


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Any:
    """``figures("black hole", counts)``: a line of this test's figures, shown at the end of the run."""

    def record(label: str, value: object) -> None:
        request.node.user_properties.append((FIGURES, f"{label}: {value}"))

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = [
        f"{report.nodeid.rpartition('::')[2]}  {text}"
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, text in getattr(report, "user_properties", ())
        if name == FIGURES
    ]
    if lines:
        terminalreporter.section(FIGURES)
        for line in lines:
            terminalreporter.write_line(line)
