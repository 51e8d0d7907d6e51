"""Engine throughput and knowledge-base load time.  Prints numbers; it is not a test.

    python bench/bench_engine.py [--seconds 5]

Assessments per second on one core over a varied set of structured cases (every golden case,
plus generated ones with random findings), the pure core only (no rendering), and with JSON and
Markdown rendering; and the time to load and check the knowledge base.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from datetime import date
from pathlib import Path

from backtriage.case import Case
from backtriage.engine import assess
from backtriage.knowledge import load_knowledge
from backtriage.report import to_markdown

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 25)


def cases(kb_findings: list[str], count: int, seed: int = 7) -> list[Case]:
    rng = random.Random(seed)
    out = [
        Case.model_validate(json.loads(p.read_text()))
        for p in sorted((ROOT / "tests" / "cases").glob("*/case.json"))
    ]
    while len(out) < count:
        findings = {
            fid: rng.choice(["present", "absent", "absent", "absent"])
            for fid in rng.sample(kb_findings, rng.randint(0, 25))
        }
        out.append(
            Case(
                age=rng.randint(18, 95),
                duration_days=rng.choice([None, rng.randint(0, 365)]),
                findings=findings,
            )
        )
    return out


def rate(fn, items, seconds: float, rounds: int = 3) -> float:  # type: ignore[no-untyped-def]
    """Items per CPU-second of this process, best of ``rounds`` (other load on a shared machine
    slows a round down; it never speeds one up)."""
    best = 0.0
    for _ in range(rounds):
        done = 0
        start = time.process_time()
        while time.process_time() - start < seconds / rounds:
            for item in items:
                fn(item)
            done += len(items)
        best = max(best, done / (time.process_time() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    loads = []
    for _ in range(20):
        start = time.perf_counter()
        kb = load_knowledge()
        loads.append(time.perf_counter() - start)
    given = [fid for fid, f in kb.findings.items() if f.derived is None]
    sample = cases(given, 200)

    core = rate(lambda c: assess(c, kb, TODAY), sample, args.seconds)
    with_json = rate(lambda c: assess(c, kb, TODAY).to_json_dict(), sample, args.seconds)
    with_md = rate(lambda c: to_markdown(assess(c, kb, TODAY), kb), sample, args.seconds)

    print(f"python {platform.python_version()} on {platform.machine()}, 1 core pinned")
    print(
        f"cases: {len(sample)} (golden + generated), {args.seconds:.0f} CPU-s per measurement;"
        " rates are per CPU-second of one core"
    )
    print(
        f"knowledge base load + check: median {statistics.median(loads) * 1000:.1f} ms "
        f"(min {min(loads) * 1000:.1f} ms, 20 loads)"
    )
    print(f"engine, core only:        {core:8.0f} assessments/s")
    print(f"engine + JSON dict:       {with_json:8.0f} assessments/s")
    print(f"engine + Markdown report: {with_md:8.0f} assessments/s")


if __name__ == "__main__":
    main()
