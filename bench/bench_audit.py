"""Benchmark of ``backtriage audit`` (issue 6): prints numbers, is not a test.

    python bench/bench_audit.py                      # 1,000,000 patients (about 10M rows)
    python bench/bench_audit.py --patients 100000 --spark

Steps, each timed in its own child process (so peak memory is that step's alone), run in turn
``--repeat`` times (3 by default; each step's median is reported, Spark's one run), from the
child's start (Python modules included: about 0.1 s for DuckDB alone, 0.35-0.4 s for the
audit's Ibis, DuckDB, pyarrow and backtriage, measured on a 2-core machine) and again from after
the imports (the work on the data):
  1. generate the synthetic population as Parquet (seed 1) into a temp folder;
  2. a plain DuckDB scan of the same files that reads every column of every row once;
  3. the audit on DuckDB (default settings), as ``backtriage audit INPUT --year 2024`` runs it
     (without ``--html``: no chart review);
  4. the same with the chart review the HTML report shows (``--html``);
  5. the audit on DuckDB with a memory limit below the data size (it must spill, not fail);
  6. optionally the audit on Spark local (``--spark``).
Targets from the issue: audit < 60 s on 2 cores, within 3x of the plain scan, bounded memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
kind, folder, arg = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
out = {}
if kind == "generate":
    from backtriage.audit.synth import generate, write
    population = generate(int(arg), seed=1)
    write(population, folder, "parquet")
    out["rows"] = population.rows
    out["arrow_bytes"] = sum(t.nbytes for t in population.tables.values())
elif kind == "scan":
    import duckdb
    ready = time.perf_counter()
    con = duckdb.connect()
    total = 0
    for path in sorted(folder.glob("*.parquet")):
        columns = [r[0] for r in con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
        expr = " + ".join(f"coalesce(length({c}), 0)" for c in columns)
        total += con.execute(
            f"SELECT count(*), sum({expr}) FROM read_parquet('{path}')").fetchone()[0]
    out["rows"] = total
else:
    from backtriage.audit.run import run_audit
    ready = time.perf_counter()
    engine = "spark" if kind == "spark" else "duckdb"
    limit = arg if kind == "duckdb" and arg != "-" else None
    # As `backtriage audit` runs: the chart review only for the HTML report (--html).
    run = run_audit(folder, 2024, engine=engine, memory_limit=limit,
                    spark_master="local[2]" if engine == "spark" else None,
                    review_charts=kind == "review")
    s = run.summary
    out.update(denominator=s["denominator"], numerator=s["numerator"], rate=s["rate"],
               exclusions=sum(s["exclusions"].values()))
out["seconds"] = round(time.perf_counter() - start, 2)
if kind != "generate":
    out["after_imports"] = round(time.perf_counter() - ready, 2)
out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print("RESULT " + json.dumps(out))
"""


def step(kind: str, folder: Path, arg: str) -> dict[str, object]:
    src = str(Path(__file__).resolve().parent.parent / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if kind == "spark":
        # The driver holds the cached tables in local mode; PySpark's 1 GiB default is too small.
        env["PYSPARK_SUBMIT_ARGS"] = "--driver-memory 6g pyspark-shell"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(folder), arg],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, object] = json.loads(line[7:])
            return result
    return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}


def _median(results: list[dict[str, object]]) -> dict[str, object]:
    """The run of median ``seconds`` (the lower middle one for an even count; its other values
    with it), the largest peak memory of all, and every run's seconds; the first error, if a
    run failed."""
    for r in results:
        if "error" in r:
            return r
    ordered = sorted(results, key=lambda r: float(str(r["seconds"])))
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["after_imports"] = (
        sorted(float(str(r["after_imports"])) for r in results)[(len(results) - 1) // 2]
        if all("after_imports" in r for r in results)
        else middle.get("after_imports")
    )
    middle["peak_rss_mib"] = max(float(str(r["peak_rss_mib"])) for r in results)
    middle["all_seconds"] = [r["seconds"] for r in results]
    return middle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--spark", action="store_true", help="also time Spark local[2]")
    parser.add_argument(
        "--memory-limit",
        default=None,
        help="DuckDB limit for step 5 (default: a quarter of the data size)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each step (the median is reported)"
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        folder = Path(tmp) / "population"
        wall = time.perf_counter()
        gen = step("generate", folder, str(args.patients))
        if "error" in gen:
            sys.exit(f"generation failed: {gen['error']}")
        # The files are written: flush them now, or the kernel writes them back while the
        # steps below are timed (its threads then take CPU from whichever step runs).
        os.sync()
        disk = sum(p.stat().st_size for p in folder.glob("*.parquet"))
        arrow_bytes = int(str(gen["arrow_bytes"]))
        limit = args.memory_limit or f"{max(64, arrow_bytes // 4 // 2**20)}MB"
        print(
            f"patients {args.patients:,}  rows {gen['rows']:,}  parquet {disk / 2**20:.0f} MiB  "
            f"in memory (Arrow) {arrow_bytes / 2**20:.0f} MiB  generated in {gen['seconds']} s"
        )
        steps = [
            ("plain DuckDB scan (every column)", "scan", "-"),
            ("audit, DuckDB", "duckdb", "-"),
            ("audit, DuckDB, with --html's chart review", "review", "-"),
            (f"audit, DuckDB, memory_limit={limit}", "duckdb", limit),
        ]
        if args.spark:
            steps.append(("audit, Spark local[2]", "spark", "-"))
        # Each repeat runs every step once, in turn (a machine that slows down or speeds up
        # mid-run then weighs on every step alike); each step's median is reported.
        runs: dict[str, list[dict[str, object]]] = {name: [] for name, _, _ in steps}
        for _ in range(args.repeat):
            for name, kind, arg in steps:
                if kind == "spark" and runs[name]:
                    continue  # once is enough for Spark (a minute or more)
                runs[name].append(step(kind, folder, arg))
        rows = [(name, _median(runs[name])) for name, _, _ in steps]
        scan_s = float(str(rows[0][1].get("seconds", "nan")))
        scan_c = float(str(rows[0][1].get("after_imports", "nan")))
        print(
            f"median of {args.repeat} runs per step (Spark: 1)\n"
            f"{'step':44} {'seconds':>8} {'x scan':>7} {'w/o imports':>12} {'x scan':>7} "
            f"{'peak RSS MiB':>13}  result"
        )
        for name, r in rows:
            secs, comp = r.get("seconds"), r.get("after_imports")
            ratio = f"{float(str(secs)) / scan_s:.1f}" if secs is not None and scan_s else "-"
            ratio_c = f"{float(str(comp)) / scan_c:.1f}" if comp is not None and scan_c else "-"
            extra = {
                k: v
                for k, v in r.items()
                if k not in ("seconds", "after_imports", "peak_rss_mib", "all_seconds")
            }
            print(
                f"{name:44} {secs!s:>8} {ratio:>7} {comp!s:>12} {ratio_c:>7} "
                f"{r.get('peak_rss_mib', '-')!s:>13}  {extra}"
            )
            print(f"{'':44} all runs (s): {r.get('all_seconds')}")
        print(f"total wall time {time.perf_counter() - wall:.0f} s on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
