"""The report of ``scripts/bench_ingest.py``: what one target measured, and the tables.

Kept apart from the runner so that each file holds one concept: the figures and their
judgement against the goals (throughput ratio >= 0.5 at saturation, p99 < 50 ms in the
open-loop phase).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

GOAL_RATIO = 0.5
GOAL_P99_MS = 50.0


@dataclass
class OpenResult:
    """The open-loop phase: latencies counted from each request's scheduled start."""

    offered: float
    achieved: float
    p50: float
    p99: float
    max: float
    non_202: dict[int, int]
    errors: int
    unanswered: int
    max_lag: float  # ms the loader started a request after its scheduled time, at worst
    answered_202: int  # warm-up included


@dataclass
class Result:
    mix: str
    target: str
    requests: int
    rate: float
    p50: float
    p99: float
    non_202: dict[int, int]
    errors: int
    answered_202: int
    jobs_rate: float | None  # jobs the busy worker finished a second, in the measured window
    cpu: dict[str, float]  # CPU seconds used in the measured window, per process group
    events_stored: int | None = None
    open: OpenResult | None = None
    probe_ms: float | None = None  # the speed probe before the target (lower: faster)


def report(results: list[list[Result]]) -> None:
    """One line per target, then each mix's ratio and goals."""
    print()
    print(
        f"{'mix':<10}{'target':<7}{'requests':>9}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'ratio':>7}  {'non-202/errors':<15}{'jobs/s':>7}  CPU ms per request"
    )
    for bare, ours in results:
        ratio = ours.rate / bare.rate if bare.rate else 0.0
        for r in (bare, ours):
            bad = ", ".join(f"{c}x{s}" for s, c in sorted(r.non_202.items())) or "0"
            shown = f"{ratio:>7.2f}" if r is ours else f"{'':>7}"
            jobs = "-" if r.jobs_rate is None else f"{r.jobs_rate:.1f}"
            cpu = ", ".join(
                f"{name} {seconds * 1000 / max(r.requests, 1):.2f}"
                for name, seconds in r.cpu.items()
            )
            print(
                f"{r.mix:<10}{r.target:<7}{r.requests:>9}{r.rate:>7.0f}{r.p50:>8.1f}"
                f"{r.p99:>8.1f}{shown}  {bad + '/' + str(r.errors):<15}{jobs:>7}  {cpu}"
            )
    opened = [r for pair in results for r in pair if r.open]
    if opened:
        print()
        print(
            f"{'open loop':<15}{'offered':>8}{'achieved':>9}{'p50 ms':>8}{'p99 ms':>8}"
            f"{'max ms':>8}  {'closed p99':>10}  {'non-202/errors/unanswered':<26}"
            "loader late ms"
        )
        for r in opened:
            o = r.open
            assert o is not None
            bad = ", ".join(f"{c}x{s}" for s, c in sorted(o.non_202.items())) or "0"
            print(
                f"{r.mix + ' ' + r.target:<15}{o.offered:>8.0f}{o.achieved:>9.0f}{o.p50:>8.1f}"
                f"{o.p99:>8.1f}{o.max:>8.1f}  {r.p99:>10.1f}  "
                f"{f'{bad}/{o.errors}/{o.unanswered}':<26}{o.max_lag:.1f}"
            )
    probes = [
        f"{r.mix} {r.target} {r.probe_ms:.0f}" for pair in results for r in pair if r.probe_ms
    ]
    if probes:
        print()
        print("speed probe, ms of CPU for a fixed loop (lower: faster): " + ", ".join(probes))
    print()
    for bare, ours in results:
        ratio = ours.rate / bare.rate if bare.rate else 0.0
        met_ratio = ratio >= GOAL_RATIO
        if ours.open:
            p99 = ours.open.p99
            where = (
                f"open-loop p99 at {ours.open.offered:.0f} req/s {p99:.1f} ms "
                f"(closed-loop {ours.p99:.1f})"
            )
        else:
            p99, where = ours.p99, f"closed-loop p99 {ours.p99:.1f} ms"
        print(
            f"{ours.mix}: ratio {ratio:.2f} (goal >= {GOAL_RATIO}) "
            f"{'met' if met_ratio else 'NOT met'}; {where} "
            f"(goal < {GOAL_P99_MS:.0f} ms) {'met' if p99 < GOAL_P99_MS else 'NOT met'}; "
            f"ledger: {ours.events_stored} events stored, {ours.answered_202} answers 202 "
            "(warm-ups included)"
        )


def medians(results: list[list[Result]]) -> None:
    """With several rounds of a mix: the median ratio and open-loop p99 over its rounds."""
    by_mix: dict[str, list[list[Result]]] = {}
    for bare, ours in results:
        by_mix.setdefault(ours.mix.split("-")[0], []).append([bare, ours])
    for name, pairs in by_mix.items():
        if len(pairs) < 2:
            continue
        ratios = [ours.rate / bare.rate if bare.rate else 0.0 for bare, ours in pairs]
        p99s = [ours.open.p99 for _, ours in pairs if ours.open]
        line = (
            f"{name}, {len(pairs)} rounds: median ratio {statistics.median(ratios):.2f} "
            f"({', '.join(f'{r:.2f}' for r in ratios)})"
        )
        if p99s:
            line += (
                f"; median open-loop p99 {statistics.median(p99s):.1f} ms "
                f"({', '.join(f'{p:.1f}' for p in p99s)})"
            )
        print(line)
