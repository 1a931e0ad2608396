"""docs/benchmarks.md and its plots, from the results of one run (bench/run.py)."""

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

HTTP_GOAL_RATE = 1000.0
HTTP_GOAL_RATIO = 0.5
HTTP_GOAL_P99_MS = 50.0
INPROCESS_GOAL_RATIO = 2.0
RELAY_GOAL_RATIO = 0.5
REBUILD_GOAL_RATE = 50_000.0
CROSS_GOAL_P50_MS, CROSS_GOAL_P99_MS = 20.0, 100.0
FLAT_WITHIN = 0.2


def _n(value: float) -> str:
    if value != value:  # NaN
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _ms(value: float) -> str:
    return "–" if value != value else (f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms")


def _ratio(value: float, base: float) -> float:
    return value / base if base else float("nan")


def _verdict(met: bool) -> str:
    return "**met**" if met else "not yet"


def _size(size: str) -> str:
    n = int(size)
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n / 1000:g}k"


def _http_row(name: str, run: dict[str, Any], base: dict[str, Any]) -> str:
    ratio = _ratio(run["rate"], base["rate"])
    p99 = run["latency_ms"]["p99"]
    checks = [run["rate"] >= HTTP_GOAL_RATE, ratio >= HTTP_GOAL_RATIO, p99 <= HTTP_GOAL_P99_MS]
    ok = f", {run['ok_ratio']:.1%} 2xx" if run["ok_ratio"] < 0.999 else ""
    verdict = (
        f"{_verdict(checks[0])} (rate), {_verdict(checks[1])} (ratio), {_verdict(checks[2])} (p99)"
        if not all(checks)
        else "**met**"
    )
    return (
        f"| {name}, {32} clients | {_n(run['rate'])}/s, p50 {_ms(run['latency_ms']['p50'])}, p99 {_ms(p99)}{ok} "
        f"| `GET /healthz` {_n(base['rate'])}/s | {ratio:.2f}× | ≥ 1,000/s, ≥ 0.5×, p99 ≤ 50 ms | {verdict} |"
    )


def _goal_table(results: dict[str, Any]) -> list[str]:
    sizes = results["sizes"]
    first = sizes[next(iter(sizes))]
    lines = [
        "| figure | measured | baseline (same run) | ratio | goal | verdict |",
        "|---|---|---|---|---|---|",
    ]
    http = results.get("stack", {}).get("http", {})
    labels = {
        ("complaints", "notes"): "HTTP `POST /complaints/{id}/notes`",
        ("complaints", "filing"): "HTTP `POST /complaints` (filing)",
        ("billing-escrow", "payments"): "HTTP `POST /accounts/{id}/payments` (escrow, money in)",
    }
    for (service, route), label in labels.items():
        if service in http and route in http[service]:
            lines.append(_http_row(label, http[service][route], http[service]["healthz"]))
    kernel = results["kernel"]
    for callers, label in ((1, "one caller at a time"), (32, "32 concurrent callers")):
        ours, theirs = kernel[f"jinlin_{callers}"], kernel[f"eventsourcing_{callers}"]
        ratio = _ratio(ours["rate"], theirs["rate"])
        lines.append(
            f"| in-process command (load, decide, append), {label} | {_n(ours['rate'])}/s, p99 {_ms(ours['p99_ms'])} "
            f"| `eventsourcing` {_n(theirs['rate'])}/s, p99 {_ms(theirs['p99_ms'])} | {ratio:.2f}× | ≥ 2× "
            f"| {_verdict(ratio >= INPROCESS_GOAL_RATIO)} |"
        )
    relay, raw = first["relay"], first["raw"]
    ratio = _ratio(relay["rate"], raw["rate"])
    lines.append(
        f"| relay to JetStream (`sync_interval: always`) | {_n(relay['rate'])} events/s "
        f"| raw nats-py `publish_async` {_n(raw['rate'])}/s | {ratio:.2f}× | ≥ 0.5× "
        f"| {_verdict(ratio >= RELAY_GOAL_RATIO)} |"
    )
    rebuilt, plain = first["rebuild"], first["plain_sql"]
    lines.append(
        f"| projection rebuild (complaints, `rebuild_projections()`) | {_n(rebuilt['rate'])} events/s "
        f"| plain SQL read {_n(plain['rate'])} rows/s | {_ratio(rebuilt['rate'], plain['rate']):.4f}× "
        f"| ≥ 50,000/s | {_verdict(rebuilt['rate'] >= REBUILD_GOAL_RATE)} |"
    )
    cross = results.get("stack", {}).get("cross_service", {})
    if "skipped" in cross:
        lines.append(f"| cross-service: complaint escalated → mediation case readable | {cross['skipped']} | – | – "
                     "| p50 ≤ 20 ms, p99 ≤ 100 ms at 100 commands/s | – |")  # fmt: skip
    elif cross:
        met = cross["p50_ms"] <= CROSS_GOAL_P50_MS and cross["p99_ms"] <= CROSS_GOAL_P99_MS and cross["rate"] >= 95
        lines.append(
            f"| cross-service: complaint escalated → mediation case readable | p50 {_ms(cross['p50_ms'])}, "
            f"p99 {_ms(cross['p99_ms'])} at {_n(cross['rate'])} commands/s ({cross['visible']}/{cross['sent']} seen) "
            f"| – | – | p50 ≤ 20 ms, p99 ≤ 100 ms at 100 commands/s | {_verdict(met)} |"
        )
    return lines


SCALED: list[tuple[str, str, Callable[[dict[str, Any]], float]]] = [
    ("HTTP `POST notes`, complaints alone, 32 clients", "/s", lambda f: f["http_notes"]["rate"]),
    ("HTTP `POST notes` p99", "ms", lambda f: f["http_notes"]["latency_ms"]["p99"]),
    ("HTTP `GET /healthz` (baseline)", "/s", lambda f: f["http_healthz"]["rate"]),
    ("in-process note command, 32 callers", "/s", lambda f: f["command"]["rate"]),
    ("relay (sync always)", "events/s", lambda f: f["relay"]["rate"]),
    ("raw nats-py (baseline)", "/s", lambda f: f["raw"]["rate"]),
    ("projection rebuild", "events/s", lambda f: f["rebuild"]["rate"]),
    ("plain SQL read (baseline)", "rows/s", lambda f: f["plain_sql"]["rate"]),
]


def _scale_table(results: dict[str, Any]) -> list[str]:
    sizes = list(results["sizes"])
    head = "| figure | " + " | ".join(f"{_size(s)} events" for s in sizes) + " | flat within 20%? |"
    lines = [head, "|---|" + "---|" * len(sizes) + "---|"]
    for label, unit, get in SCALED:
        values = [get(results["sizes"][s]) for s in sizes]
        cells = [f"{_n(values[0])} {unit}"]
        cells += [f"{_n(v)} {unit} ({_ratio(v, values[0]):.2f}×)" for v in values[1:]]
        flat = all(abs(_ratio(v, values[0]) - 1) <= FLAT_WITHIN for v in values[1:])
        verdict = "–" if len(values) < 2 else _verdict(flat)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {verdict} |")
    return lines


PAIRED: list[tuple[str, Callable[[dict[str, Any]], float]]] = [
    ("HTTP notes ÷ `GET /healthz`", lambda f: f["http_notes"]["rate"] / f["http_healthz"]["rate"]),
    ("relay ÷ raw nats-py", lambda f: f["relay"]["rate"] / f["raw"]["rate"]),
    ("rebuild ÷ plain SQL read", lambda f: f["rebuild"]["rate"] / f["plain_sql"]["rate"]),
]


def _paired_table(results: dict[str, Any]) -> list[str]:
    """Each figure divided by the baseline measured right beside it: a neighbour's load that comes and goes
    between steps mostly cancels out."""
    sizes = list(results["sizes"])
    lines = ["| figure ÷ its baseline | " + " | ".join(f"{_size(s)} events" for s in sizes) + " | flat within 20%? |"]
    lines.append("|---|" + "---|" * len(sizes) + "---|")
    for label, get in PAIRED:
        values = [get(results["sizes"][s]) for s in sizes]
        cells = [f"{values[0]:.4f}"] + [f"{v:.4f} ({_ratio(v, values[0]):.2f}×)" for v in values[1:]]
        flat = all(abs(_ratio(v, values[0]) - 1) <= FLAT_WITHIN for v in values[1:])
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {'–' if len(values) < 2 else _verdict(flat)} |")
    return lines


def _plot_latency(results: dict[str, Any], path: Path) -> bool:
    http = results.get("stack", {}).get("http", {})
    runs = [(f"{service} {run['label']}", run) for service, routes in http.items() for run in routes.values()]
    if not runs:
        return False
    figure, axis = plt.subplots(figsize=(9, 5))
    for label, run in runs:
        points = [(p, ms) for p, ms in run["curve"] if p < 100]
        xs = [-math.log10(1 - p / 100) for p, _ in points]
        axis.plot(xs, [ms for _, ms in points], label=f"{label} ({run['rate']:,.0f}/s)")
    ticks = [50, 90, 99, 99.9, 99.99]
    axis.set_xticks([-math.log10(1 - p / 100) for p in ticks], [f"p{p:g}" for p in ticks])
    axis.set_yscale("log")
    axis.set_ylabel("latency (ms, log scale)")
    axis.set_xlabel("percentile")
    axis.axhline(HTTP_GOAL_P99_MS, color="grey", linestyle=":", linewidth=1)
    axis.text(0, HTTP_GOAL_P99_MS * 1.05, "goal: p99 ≤ 50 ms", color="grey", fontsize=8)
    axis.set_title("HTTP latency by percentile, 32 concurrent clients (wrk), whole stack")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def _plot_growth(results: dict[str, Any], path: Path) -> bool:
    sizes = list(results["sizes"])
    if len(sizes) < 2:
        return False
    counts = [results["sizes"][s]["events"] for s in sizes]
    figure, axis = plt.subplots(figsize=(9, 5))
    for label, unit, get in SCALED:
        if unit == "ms":
            continue
        values = [get(results["sizes"][s]) for s in sizes]
        axis.plot(
            counts, [v / values[0] for v in values], marker="o", label=f"{label} ({_n(values[0])} {unit} at first)"
        )
    axis.axhspan(1 - FLAT_WITHIN, 1 + FLAT_WITHIN, color="green", alpha=0.08, label="goal: within 20% of the first")
    axis.set_xscale("log")
    axis.set_xlabel("events in the store")
    axis.set_ylabel(f"throughput relative to {_size(sizes[0])}")
    axis.set_title("Throughput as the store grows")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def _profile_lines(title: str, profile: dict[str, Any]) -> list[str]:
    if not profile.get("samples"):
        return [f"**{title}**: no samples."]
    lines = [
        f"**{title}**: {profile['samples']:,} samples at 100 Hz of whichever thread held the GIL; it was held "
        f"{profile['gil_busy']:.0%} of the time.",
        "",
    ]
    lines += ["| where (innermost frame) | share |", "|---|---|"]
    lines += [f"| {name} | {share:.0%} |" for name, share in profile["components"][:10]]
    lines += ["", "| our functions (inclusive) | share |", "|---|---|"]
    lines += [f"| `{name}` | {share:.0%} |" for name, share in profile["ours_inclusive"][:14]]
    return [*lines, ""]


def _caution(machine: dict[str, Any]) -> list[str]:
    foreign = machine.get("foreign_cpu_share", 0.0)
    if not foreign > 0.25:
        return []
    return [
        f"**Caution: the machine was shared.** Other processes took {foreign:.0%} of its CPU during this run, so "
        "every process here got a fraction of a core that changed from minute to minute: absolute figures are "
        "pessimistic, and comparisons between steps that ran minutes apart (the store sizes below) show the "
        "neighbours' load as much as ours. Ratios to a baseline measured right beside a figure, the database "
        "round trips and the profiles hold up better. Rerun `make bench` on a quiet machine for figures to quote.",
        "",
    ]


def _share_of(profile: dict[str, Any], needle: str, key: str = "leaves") -> float:
    return sum(share for name, share in profile.get(key, []) if needle in name)


def _hot_paths(results: dict[str, Any]) -> list[str]:
    """The changes the profiles point at (read from the code in November 2026); the shares are this run's."""
    profiles = results.get("profiles", {})
    rebuilt = profiles.get("rebuild", {})
    first = results["sizes"][next(iter(results["sizes"]))]
    trips = first.get("round_trips", {}).get("handoffs", {})
    rebuilt_at, plain_at = first["rebuild"]["rate"], first["plain_sql"]["rate"]
    in_rebuild = {
        name: _share_of(rebuilt, f"{name} ({path})", "ours_inclusive")
        for name, path in (
            ("EventStore.rebuild_projections", "jinlin/store/store.py"),
            ("ComplaintListProjection.apply_batch", "complaints/application/read_model.py"),
            ("fold_row", "complaints/application/read_model.py"),
            ("_write", "complaints/application/read_model.py"),
        )
    }
    return [
        "### What the profiles point at",
        "",
        "1. **The write section without hand-offs (done, issue 8; ADR 17).** Group commit runs the members' "
        "bodies one at a time under the write lock; on SQLite each statement used to be four hand-offs to "
        "aiosqlite's thread (48 per notes command), each waiting for the event loop behind every other request. "
        "Now the writer runs its statements in place once `BEGIN IMMEDIATE` holds the lock, the kernel's own "
        "statements and savepoints go straight to the driver, the idempotency key is looked up once, the log's tail "
        "once per group and a stream's version once per transaction, and canonical JSON is written in C: one notes "
        f"command makes {trips.get('writer', float('nan')):.0f} hand-off to the writer's thread (the commit). What "
        "is left of an HTTP command is spread out: the HTTP framework, pydantic, structured logging and the kernel's "
        "command kit each hold a tenth to a fifth of the samples above, and the service spends most of its core on "
        "them. The ≥ 1,000/s goal needs a core's worth of CPU cut to a third per request, beyond what the kernel "
        "alone can give.",
        "2. **The read model (done, issue 8).** The complaints list folds each event's stored data straight into "
        "its row (`fold_row` in `complaints/application/read_model.py`: no pydantic model, no domain state; tests "
        "hold it equal to `row_of` over the domain's state, and a rebuilt read model equal to the one built live, "
        "on SQLite and PostgreSQL). On the command path the rows of recently changed complaints are kept (dropped "
        "on every rollback), so an event needs no `SELECT` of the previous row, and the upsert is compiled once per "
        "dialect and run on the driver. `rebuild_projections` reads the log in batches of 10,000 events (only the "
        "columns a fold needs) and hands each batch to the projection's `apply_batch`: the batch folded per "
        "complaint in memory, each complaint's row written once (`executemany`). This run: rebuild "
        f"{_n(rebuilt_at)} events/s, {_ratio(rebuilt_at, plain_at):.2f}× the plain SQL read of the same rows. "
        f"In the rebuild's profile `rebuild_projections` holds {in_rebuild['EventStore.rebuild_projections']:.0%} "
        f"of the samples, the projection's `apply_batch` {in_rebuild['ComplaintListProjection.apply_batch']:.0%}, "
        f"of which folding (`fold_row`) {in_rebuild['fold_row']:.0%} and writing the rows (`_write`) "
        f"{in_rebuild['_write']:.0%}; the rest of the time is reading the log (the plain read's own cost) and "
        "decoding each event's JSON. Before: an upsert built per event and a `SELECT` of the previous row per event "
        "(767 events/s on 2026-11-29).",
        "",
    ]


def _http_details(results: dict[str, Any]) -> list[str]:
    stack = results.get("stack", {})
    lines = [
        f"Services running: {', '.join(stack.get('services', []))}. Before loading, every relay and consumer had "
        f"caught up (the staff console consumes the seeded events: {stack.get('catch_up_seconds', 0):.0f} s)."
        + (f" **Not drained:** {stack['catch_up_unfinished']}." if stack.get("catch_up_unfinished") else ""),
        "",
        "| service | route | requests/s | p50 | p90 | p99 | p99.9 | max | statuses "
        "| CPU (cores): service / nats-server / wrk |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for service, routes in stack.get("http", {}).items():
        for run in routes.values():
            latency, cores = run["latency_ms"], run["cpu_cores"]
            lines.append(
                f"| {service} | {run['label']} | {_n(run['rate'])} | {_ms(latency['p50'])} | {_ms(latency['p90'])} "
                f"| {_ms(latency['p99'])} | {_ms(latency['p999'])} | {_ms(latency['max'])} | "
                + ", ".join(f"{k}: {v:,}" for k, v in sorted(run["statuses"].items()))
                + f" | {cores.get(service, 0):.2f} / {cores.get('nats-server', 0):.2f} / {cores.get('wrk', 0):.2f} |"
            )
    refusals = [
        f"- {service} {run['label']}, first answer that was not 2xx: `{run['first_error'].replace('`', chr(39))}`"
        for service, routes in stack.get("http", {}).items()
        for run in routes.values()
        if run.get("first_error")
    ]
    return [*lines, "", *refusals] if refusals else lines


def write(results: dict[str, Any], document: Path, figures_dir: Path) -> None:
    figures_dir.mkdir(parents=True, exist_ok=True)
    machine, plan = results["machine"], results["plan"]
    has_latency = _plot_latency(results, figures_dir / "http-latency.png")
    has_growth = _plot_growth(results, figures_dir / "store-growth.png")
    sizes = list(results["sizes"])
    first = results["sizes"][sizes[0]]
    kernel = results["kernel"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); do not edit by hand. Every figure stands beside a baseline measured "
        "in the same run on the same machine, as a ratio. A benchmark prints figures: nothing here fails a build.",
        "",
        f"Run: {machine['date']}, {'quick smoke run (`BENCH_QUICK=1`)' if plan['quick'] else 'default suite'}, "
        f"{results['seconds'] / 60:.1f} minutes.",
        "",
        "| machine | |",
        "|---|---|",
        f"| CPU | {machine['cpu_model']}, {machine['cores']} cores |",
        f"| memory | {machine['memory_gib']} GiB |",
        f"| OS | {machine['kernel']} |",
        f"| disk | 4 KiB write + fsync: median {machine['fsync_ms_median']} ms, p99 {machine['fsync_ms_p99']} ms |",
        f"| Python | {machine['python']} (SQLAlchemy {machine['sqlalchemy']}, nats-py {machine['nats_py']}, "
        f"eventsourcing {machine['eventsourcing']}) |",
        f"| SQLite | {machine['sqlite']} (WAL, `synchronous=FULL`) |",
        f"| nats-server | {machine['nats_server']} (JetStream, `sync_interval: always` as shipped) |",
        f"| load generator | {machine['wrk']}, 1 thread, 32 connections, Lua scripts in `bench/lua/` |",
        f"| other work meanwhile | {machine.get('foreign_cpu_share', float('nan')):.0%} of the machine's CPU went to "
        f"processes outside the benchmark (1-minute load average at the start: "
        f"{machine.get('load_average_at_start', float('nan')):.1f}) |",
        "",
        *_caution(machine),
        "## Goals",
        "",
        *_goal_table(results),
        "",
        "## As the store grows",
        "",
        f"The complaints store seeded with {', '.join(_size(s) for s in sizes)} events (six per complaint: filed, "
        "acknowledged, assigned, three notes). Each figure beside the same figure at the first size.",
        "",
        *_scale_table(results),
        "",
        *_paired_table(results),
        "",
    ]
    if "1000000" not in results["sizes"]:
        lines += ["**1M events: not run** this time; the default suite (`make bench`) runs it.", ""]
    if has_growth:
        lines += ["![throughput as the store grows](benchmarks/store-growth.png)", ""]
    lines += [
        "## HTTP, whole stack",
        "",
        "`wrk` with a Lua script per route, a unique `Idempotency-Key` per request; notes go to a random seeded "
        f"complaint; filing seals the reporter with a key of their own; escrow payments go to one of 4 accounts × 25 "
        f"households with a unique movement id and bank reference. {plan['warmup_seconds']:g} s warm-up, then "
        f"{plan['load_seconds']:g} s measured. CPU is per process over the measured run: wrk used a small fraction "
        "of one core, so the load generator is not the bottleneck.",
        "",
        *_http_details(results),
        "",
    ]
    if has_latency:
        lines += ["![HTTP latency by percentile](benchmarks/http-latency.png)", ""]
    lines += [
        "## In process",
        "",
        f"Like for like with the `eventsourcing` library ({machine['eventsourcing']}): the same aggregate (a ticket "
        "taking notes), events and decision, one command per transaction, on stores already holding "
        f"{kernel['events_before']:,} events. SQLite settings read back from the files: jinlin "
        f"`journal_mode={kernel['sqlite_jinlin']['journal_mode']}`, synchronous FULL (set on every connection by the "
        f"engine); eventsourcing `journal_mode={kernel['sqlite_eventsourcing']['journal_mode']}`, "
        f"`synchronous={kernel['sqlite_eventsourcing']['synchronous']}`. 32 callers are asyncio tasks for jinlin, "
        "threads for `eventsourcing` (its API is synchronous).",
        "",
        "| callers | jinlin | p50 / p99 | eventsourcing | p50 / p99 | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for callers in (1, 32):
        ours, theirs = kernel[f"jinlin_{callers}"], kernel[f"eventsourcing_{callers}"]
        lines.append(
            f"| {callers} | {_n(ours['rate'])}/s | {_ms(ours['p50_ms'])} / {_ms(ours['p99_ms'])} | "
            f"{_n(theirs['rate'])}/s | {_ms(theirs['p50_ms'])} / {_ms(theirs['p99_ms'])} | "
            f"{_ratio(ours['rate'], theirs['rate']):.2f}× |"
        )
    lines += [
        "",
        "## Relay",
        "",
        f"The last {plan['relay_tail']:,} events of the store relayed with the shipped server settings, beside "
        "nats-py's `publish_async` of the same messages (payloads and headers prepared in advance) into another "
        "stream of the same server. With `sync_interval: always` both wait for the disk on every message. With "
        "JetStream's default, lazy sync (used to fill the stream before measuring) the disk is out of the way and "
        "the relay's own cost shows:",
        "",
        "| server sync | relay | raw nats-py | ratio |",
        "|---|---|---|---|",
        f"| always (shipped) | {_n(first['relay']['rate'])} events/s | {_n(first['raw']['rate'])}/s | "
        f"{_ratio(first['relay']['rate'], first['raw']['rate']):.2f}× |",
    ]
    if "raw_lazy_sync" in first:
        lazy, raw_lazy = first["relay_lazy_sync"], first["raw_lazy_sync"]
        lines.append(
            f"| default (lazy) | {_n(lazy['rate'])} events/s | {_n(raw_lazy['rate'])}/s | "
            f"{_ratio(lazy['rate'], raw_lazy['rate']):.2f}× |"
        )
    trips = first.get("round_trips")
    if trips:
        lines += [
            "",
            "## What one command asks of the database",
            "",
            f"One `POST /complaints/{{id}}/notes` through the real app (in process, one at a time, "
            f"{trips['commands']} commands averaged): SQL statements, and hand-offs to aiosqlite's connection threads "
            "(each a queue put, a thread wake-up and a trip back through the event loop). Everything on the writer "
            "connection runs inside the store's write section, one command after the other. The statements listed "
            "are those SQLAlchemy runs: the kernel's own statements on the SQLite writer (the stream, the log's tail, "
            "the events, the idempotency record, savepoints) go straight to the driver and are not counted "
            "(ADR 17).",
            "",
            "| connection | hand-offs per command |",
            "|---|---|",
            *(f"| {role} | {n:.1f} |" for role, n in sorted(trips["handoffs"].items())),
            "",
            "| statement | per command |",
            "|---|---|",
            *(f"| `{kind}` | {n:.1f} |" for kind, n in trips["statements"].items()),
        ]
    profiles = results.get("profiles", {})
    lines += [
        "",
        "## Where the time goes",
        "",
        "py-spy (`--gil --nonblocking`) on the complaints service during a separate notes load, and on rebuilds of "
        f"{_size(sizes[0]) if plan['quick'] else '10k'} events, repeated for 3 s (one alone takes less than the "
        'start-up of its process). "Innermost frame" attributes each sample to the '
        'code it was executing; "inclusive" counts a sample for every one of our functions on its stack.',
        "",
        *_profile_lines("HTTP `POST /complaints/{id}/notes`", profiles.get("http_notes", {})),
        *_profile_lines("`rebuild_projections()` of complaints", profiles.get("rebuild", {})),
        *_hot_paths(results),
        "Reproduce: `make bench` (or `BENCH_QUICK=1 make bench`); raw figures of the last run in "
        "`var/bench/results.json`.",
        "",
    ]
    document.write_text("\n".join(lines))
