"""Engine throughput and knowledge-base load time.  Prints numbers; it is not a test.

    python bench/bench_engine.py [--cases 20000] [--rounds 3]

Assessments per second on one core over varied structured cases (the golden cases, plus generated
ones with up to 25 random findings, a new set each round), the pure core only (no rendering), and
with the JSON form and the Markdown report; and the time to load and check the knowledge base.
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
        case
        for p in sorted((ROOT / "tests" / "cases").glob("*/case.json"))
        if not (case := Case.model_validate(json.loads(p.read_text()))).complaint
        and not case.note  # text is bench_text.py's business; this measures the engine
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


def rate(fn, rounds: list[list[Case]]) -> float:  # type: ignore[no-untyped-def]
    """Cases per CPU-second of this process, best round.  Every round is a fresh set of cases the
    engine has not seen (it shares results between cases whose screening patterns agree, so
    assessing the same cases again would overstate its speed); other load on a shared machine
    slows a round down, never speeds one up."""
    best = 0.0
    for items in rounds:
        start = time.process_time()
        for item in items:
            fn(item)
        best = max(best, len(items) / (time.process_time() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000, help="cases per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    loads = []
    for _ in range(20):
        start = time.perf_counter()
        kb = load_knowledge()
        loads.append(time.perf_counter() - start)
    given = [fid for fid, f in kb.findings.items() if f.derived is None]

    def fresh(seed: int) -> list[list[Case]]:
        return [cases(given, args.cases, seed=seed * 100 + r) for r in range(args.rounds)]

    core = rate(lambda c: assess(c, kb, TODAY), fresh(1))
    with_json = rate(lambda c: assess(c, kb, TODAY).to_json_dict(), fresh(2))
    with_md = rate(lambda c: to_markdown(assess(c, kb, TODAY), kb), fresh(3))

    print(f"python {platform.python_version()} on {platform.machine()}, 1 core pinned")
    print(
        f"cases: {args.cases} per round ({args.rounds} rounds, each new: golden + generated);"
        " rates are per CPU-second of one core, best round"
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
