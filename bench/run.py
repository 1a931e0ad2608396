"""``make bench``: the whole suite, each figure beside its baseline measured in the same run; writes docs/benchmarks.md.

    .venv/bin/python -m bench.run                 # the default suite (store sizes 10k, 100k and 1M, ~20 minutes)
    BENCH_QUICK=1 .venv/bin/python -m bench.run   # a smoke run (~2 minutes, small store, short loads)
    BENCH_SIZES=10000,100000 ...                  # other store sizes (the first one is the baseline of the others)

Steps, for each store size N: seed the complaints store with N events; rebuild its read model (beside plain SQL);
fill its JetStream stream and relay the last events with the shipped settings (beside raw nats-py); start the
complaints service on it and load ``POST /complaints/{id}/notes`` (beside ``GET /healthz``); run the note command in
process. At the first size also: the whole embedded stack (every registered service) under load, one command route
at a time, and the cross-service latency when mediation is registered. Then the kernel beside ``eventsourcing``, and
py-spy profiles of the HTTP command and of the rebuild. Raw results: var/bench/results.json.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import cross_service, inprocess, profiling, rebuild, relay_bench, report, seeding
from bench.http_load import BenchStack, WrkRun, run_wrk, set_up_escrow, staff
from bench.machine import ForeignLoad, describe, wait_for_quiet
from jinlin.logging import configure_logging
from jinlin.service import registered_services
from jinlin.store import EventStore, create_engines

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 32


@dataclass(frozen=True)
class Plan:
    quick: bool
    sizes: list[int]
    load_seconds: float
    warmup_seconds: float
    relay_tail: int
    inprocess_sequential: int
    inprocess_concurrent: int
    command_count: int
    kernel_tickets: int
    escalations: int
    profile_seconds: float

    @classmethod
    def from_env(cls) -> "Plan":
        quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
        default_sizes = "3000" if quick else "10000,100000,1000000"
        sizes = [int(size) for size in os.environ.get("BENCH_SIZES", default_sizes).split(",")]
        if quick:
            return cls(True, sizes, 3, 1, 300, 150, 600, 300, 512, 100, 4)
        return cls(False, sizes, 10, 2, 2000, 500, 3000, 1000, 2048, 1000, 10)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


def load(
    stack: BenchStack, service: str, label: str, script: str, plan: Plan, env: dict[str, str] | None = None
) -> WrkRun:
    env = {"BENCH_RUN": f"r{time.time_ns():x}"} | (env or {})
    url = stack.url(service)
    run_wrk(f"{label} warm-up", url, script, plan.warmup_seconds, env=env | {"BENCH_RUN": env["BENCH_RUN"] + "w"})
    result = run_wrk(label, url, script, plan.load_seconds, env=env, watch=stack.watch(service))
    log(
        f"  {service} {label}: {result.rate:,.0f}/s, p50 {result.latency_ms['p50']:.1f} ms, "
        f"p99 {result.latency_ms['p99']:.1f} ms, statuses {result.statuses}, cores {result.cpu_cores}"
    )
    return result


def notes_env(complaints: int) -> dict[str, str]:
    return {"BENCH_TOKEN": staff("intake")["Authorization"].split()[1], "BENCH_COMPLAINTS": str(complaints)}


async def prepare_size(work: Path, size: int, plan: Plan, *, lazy_baseline: bool) -> tuple[Path, dict[str, Any]]:
    """Seed, rebuild, relay: the store of ``size`` events with its read model and its stream in step."""
    var = work / f"size-{size}" / "var"
    var.mkdir(parents=True)
    database = var / "complaints.sqlite3"
    log(f"size {size:,}: seeding the complaints store")
    seeded = await seeding.seed_complaints(url_of(database), size)
    figures: dict[str, Any] = {
        "events": seeded.events,
        "complaints": seeded.complaints,
        "seed": {"seconds": seeded.seconds, "rate": seeded.rate},
    }
    log(f"  seeded {seeded.events:,} events in {seeded.seconds:.1f}s ({seeded.rate:,.0f}/s)")
    count, seconds = rebuild.plain_sql_read(database)
    figures["plain_sql"] = {"events": count, "seconds": seconds, "rate": count / seconds}
    count, seconds = await rebuild.rebuild(url_of(database))
    figures["rebuild"] = {"events": count, "seconds": seconds, "rate": count / seconds}
    log(f"  rebuild {count / seconds:,.0f}/s, plain SQL {figures['plain_sql']['rate']:,.0f}/s")
    store = EventStore(create_engines(url_of(database)), seeding.registry)
    try:
        relayed = await relay_bench.relay_at_size(store, var / "nats", plan.relay_tail, lazy_baseline=lazy_baseline)
    finally:
        await store.close()
    figures.update(relayed)
    log(f"  relay {relayed['relay']['rate']:,.0f}/s, raw nats-py {relayed['raw']['rate']:,.0f}/s (sync always)")
    return var, figures


def complaints_alone(var: Path, figures: dict[str, Any], plan: Plan, profile_to: Path | None) -> None:
    """The complaints service alone on the seeded store: the HTTP figures as the store grows."""
    with BenchStack(var, only=["complaints"]) as stack:
        stack.wait_quiet(120)
        figures["http_healthz"] = load(stack, "complaints", "GET /healthz", "get.lua", plan).as_dict()
        notes = load(stack, "complaints", "POST notes", "complaint_notes.lua", plan, notes_env(figures["complaints"]))
        figures["http_notes"] = notes.as_dict()
        if profile_to is not None:
            log("  profiling the complaints service under the notes load (py-spy)")
            seconds = str(int(plan.profile_seconds))
            spy = profiling.record(["--pid", str(stack.pid("complaints")), "--duration", seconds], profile_to)
            env = {"BENCH_RUN": f"p{time.time_ns():x}"} | notes_env(figures["complaints"])
            run_wrk("profiled", stack.url("complaints"), "complaint_notes.lua", plan.profile_seconds + 1, env=env)
            _, errors = spy.communicate(timeout=60)
            if spy.returncode != 0:
                raise RuntimeError(f"py-spy failed: {errors.decode()[-500:]}")


async def command_in_process(var: Path, figures: dict[str, Any], plan: Plan, *, diagnose: bool) -> None:
    url = url_of(var / "complaints.sqlite3")
    run = await inprocess.complaint_note_commands(url, figures["complaints"], plan.command_count, CLIENTS)
    figures["command"] = run.summary()
    log(f"  note command in process, {CLIENTS} callers: {run.rate:,.0f}/s, p99 {run.p99:.1f} ms")
    if diagnose:
        figures["round_trips"] = await inprocess.round_trips_per_note(url, figures["complaints"])
        configure_logging("console", "warning")  # the app under diagnosis configured its own
        log(f"  one notes command: {figures['round_trips']['handoffs']} aiosqlite hand-offs")


def whole_stack(var: Path, complaints: int, plan: Plan) -> dict[str, Any]:
    """Every registered service running; each command route loaded alone, beside its own server's /healthz."""
    results: dict[str, Any] = {"services": [spec.name for spec in registered_services()]}
    with BenchStack(var) as stack:
        started = time.monotonic()
        try:
            results["catch_up_seconds"] = stack.wait_quiet(600)
        except TimeoutError as exc:  # measured anyway; the report says the consumers were still busy
            results["catch_up_seconds"] = time.monotonic() - started
            results["catch_up_unfinished"] = str(exc)
        log(f"whole stack ({', '.join(results['services'])}): consumers caught up in {time.monotonic() - started:.0f}s")
        http: dict[str, dict[str, Any]] = {}
        names = [spec.name for spec in stack.specs]
        if "complaints" in names:
            token = {"BENCH_TOKEN": staff("intake")["Authorization"].split()[1]}
            http["complaints"] = {
                "healthz": load(stack, "complaints", "GET /healthz", "get.lua", plan).as_dict(),
                "notes": load(
                    stack, "complaints", "POST notes", "complaint_notes.lua", plan, notes_env(complaints)
                ).as_dict(),
                "filing": load(stack, "complaints", "POST /complaints", "complaint_filing.lua", plan, token).as_dict(),
            }
        if "billing-escrow" in names:
            accounts, households = 4, 25
            set_up_escrow(stack.url("billing-escrow"), accounts, households)
            stack.wait_quiet(120)
            env = {"BENCH_TOKEN": staff("finance")["Authorization"].split()[1], "BENCH_ACCOUNTS": str(accounts),
                   "BENCH_HOUSEHOLDS": str(households)}  # fmt: skip
            http["billing-escrow"] = {
                "healthz": load(stack, "billing-escrow", "GET /healthz", "get.lua", plan).as_dict(),
                "payments": load(stack, "billing-escrow", "POST payments", "escrow_payments.lua", plan, env).as_dict(),
            }
        results["http"] = http
        if "mediation" in names:
            stack.wait_quiet(300)
            mediation_db = Path(stack.layout.database_url(next(s for s in stack.specs if s.name == "mediation"))
                                .split(":///", 1)[1])  # fmt: skip
            # Complaints the notes load did not touch much: the last ones seeded.
            first = max(0, complaints - plan.escalations)
            escalated = asyncio.run(
                cross_service.escalate_at_rate(stack.url("complaints"), mediation_db, first, plan.escalations, 100.0)
            )
            results["cross_service"] = escalated.summary()
            log(f"  cross-service: {results['cross_service']}")
        else:
            results["cross_service"] = {"skipped": "not measured: mediation not yet registered"}
    return results


def kernel_versus_eventsourcing(work: Path, plan: Plan) -> dict[str, Any]:
    kernel = work / "kernel"
    kernel.mkdir()
    tickets = plan.kernel_tickets
    results: dict[str, Any] = {"tickets": tickets, "events_before": tickets * (1 + inprocess.NOTES_PER_SEEDED_TICKET)}
    for callers, count in ((1, plan.inprocess_sequential), (CLIENTS, plan.inprocess_concurrent)):
        jinlin = asyncio.run(inprocess.jinlin_run(kernel / f"jinlin-{callers}.sqlite3", tickets, count, callers))
        baseline = inprocess.eventsourcing_run(kernel / f"eventsourcing-{callers}.sqlite3", tickets, count, callers)
        results[f"jinlin_{callers}"] = jinlin.summary()
        results[f"eventsourcing_{callers}"] = baseline.summary()
        log(f"kernel, {callers} caller(s): jinlin {jinlin.rate:,.0f}/s, eventsourcing {baseline.rate:,.0f}/s")
    results["sqlite_jinlin"] = inprocess.sqlite_settings(kernel / "jinlin-1.sqlite3")
    results["sqlite_eventsourcing"] = inprocess.eventsourcing_settings(kernel / "eventsourcing-1.sqlite3")
    return results


def profile_rebuild(work: Path, output: Path, events: int) -> float:
    """py-spy on a process that rebuilds the read model of ``events`` seeded events; returns its run time."""
    database = work / "profile-rebuild" / "complaints.sqlite3"
    database.parent.mkdir()
    asyncio.run(seeding.seed_complaints(url_of(database), events))
    command = ["--", sys.executable, "-m", "bench.rebuild", url_of(database)]
    started = time.monotonic()
    spy = profiling.record(command, output)
    _, errors = spy.communicate(timeout=900)
    if spy.returncode != 0:
        raise RuntimeError(f"py-spy failed: {errors.decode()[-500:]}")
    return time.monotonic() - started


def main() -> None:
    configure_logging("console", "warning")
    plan = Plan.from_env()
    work = Path(tempfile.mkdtemp(prefix="jinlin-bench-"))
    log(f"working in {work}; plan {plan}")
    load_at_start = wait_for_quiet(float(os.environ.get("BENCH_WAIT_QUIET", 30 if plan.quick else 300)), log)
    started = time.monotonic()
    foreign = ForeignLoad()
    results: dict[str, Any] = {"plan": plan.__dict__, "machine": describe(work).as_dict(), "sizes": {}}
    results["machine"]["load_average_at_start"] = load_at_start
    try:
        for index, size in enumerate(plan.sizes):
            first = index == 0
            var, figures = asyncio.run(prepare_size(work, size, plan, lazy_baseline=first))
            if first:
                shutil.copytree(var, work / "whole-stack" / "var")
            complaints_alone(var, figures, plan, work / "profile-http.txt" if first else None)
            asyncio.run(command_in_process(var, figures, plan, diagnose=first))
            results["sizes"][str(size)] = figures
            if first:
                results["stack"] = whole_stack(work / "whole-stack" / "var", figures["complaints"], plan)
            shutil.rmtree(var.parent)
        results["kernel"] = kernel_versus_eventsourcing(work, plan)
        log("profiling a rebuild (py-spy)")
        rebuild_seconds = profile_rebuild(work, work / "profile-rebuild.txt", plan.sizes[0] if plan.quick else 10_000)
        results["profiles"] = {
            "http_notes": profiling.summarise(work / "profile-http.txt", plan.profile_seconds),
            "rebuild": profiling.summarise(work / "profile-rebuild.txt", rebuild_seconds),
        }
        results["seconds"] = time.monotonic() - started
        results["machine"]["foreign_cpu_share"] = foreign.share()
        log(f"other work on the machine used {results['machine']['foreign_cpu_share']:.0%} of its CPU meanwhile")
        out = ROOT / "var" / "bench"
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
        report.write(results, ROOT / "docs" / "benchmarks.md", ROOT / "docs" / "benchmarks")
        log(f"done in {results['seconds'] / 60:.1f} min: docs/benchmarks.md, raw figures in var/bench/results.json")
    finally:
        if os.environ.get("BENCH_KEEP"):
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as exc:
        sys.exit(f"bench: {exc}")
