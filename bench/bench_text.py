"""Benchmark: the free-text reader against medspaCy's default pipeline, on the same notes.

    python bench/bench_text.py [--rounds 3] [--notes 40]

Pinned to one CPU core (and one BLAS/OpenMP thread).  The notes are ~500 words each, built
by joining the development-set notes (tests/text/devset/) until each reaches 500 words.  Every
round is a new set: the notes in a new order, and every number in them replaced by a random one
of the same length (ages, durations, temperatures, ESR...), so that neither pipeline reads a
round from what it kept of the one before; words and phrases still repeat, as in real notes.
Both pipelines read the same notes in a round; rounds of the two are interleaved so that a busy
machine slows both alike, and the best round is reported.

Prints: import time and load (construction) time of ``TextReader``, notes/s and ms/note for
``TextReader.read`` and for ``medspacy.load()`` (PyRuSH sentences, TargetMatcher without
rules, ConText with its 102 default rules), and the ratio.  Targets: >= 100 notes/s, >= 4x
medspaCy's default pipeline, load < 1 s.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")


def _pin_one_core(cpu: int | None) -> str:
    if hasattr(os, "sched_setaffinity"):
        allowed = sorted(os.sched_getaffinity(0))
        chosen = cpu if cpu is not None and cpu in allowed else allowed[-1]
        os.sched_setaffinity(0, {chosen})
        return f"pinned to CPU {chosen} of {len(allowed)}"
    return "not pinned (no sched_setaffinity on this OS)"


def _notes(count: int, words: int = 500, seed: int = 0) -> list[str]:
    import yaml

    texts: list[str] = []
    for path in sorted((ROOT / "tests" / "text" / "devset").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
            texts.append("\n".join(t for t in (entry.get("complaint"), entry.get("note")) if t))
    if seed:
        rng = random.Random(seed)
        rng.shuffle(texts)

        def number(match: re.Match[str]) -> str:
            size = len(match.group())
            return str(rng.randint(1 if size == 1 else 10 ** (size - 1), 10**size - 1))

        texts = [re.sub(r"\d+", number, text) for text in texts]
    notes: list[str] = []
    i = 0
    while len(notes) < count:
        parts: list[str] = []
        while sum(len(p.split()) for p in parts) < words:
            parts.append(texts[i % len(texts)])
            i += 1
        notes.append("\n\n".join(parts))
    return notes


def _time_round(read: object, notes: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds to read every note once."""
    start, cpu = time.perf_counter(), time.process_time()
    for note in notes:
        read(note)  # type: ignore[operator]
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--notes", type=int, default=40)
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: last)")
    args = parser.parse_args()
    pinned = _pin_one_core(args.cpu)

    start = time.perf_counter()
    from backtriage.text import TextReader

    import_s = time.perf_counter() - start
    loads = []
    for _ in range(3):
        start = time.perf_counter()
        reader = TextReader()
        loads.append(time.perf_counter() - start)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import medspacy
        from loguru import logger

        logger.remove()  # PyRuSH logs every sentence at DEBUG otherwise
        start = time.perf_counter()
        default_nlp = medspacy.load()
        medspacy_load_s = time.perf_counter() - start

    notes = _notes(args.notes)
    rounds = [_notes(args.notes, seed=r + 1) for r in range(args.rounds)]
    words = statistics.mean(len(n.split()) for batch in rounds for n in batch)

    def ours(note: str) -> object:
        return reader.read(note=note)

    def theirs(note: str) -> object:
        return default_nlp(note)

    for fn in (ours, theirs):  # warm caches
        _time_round(fn, notes[:3])
    times: dict[str, list[tuple[float, float]]] = {"ours": [], "theirs": []}
    for batch in rounds:  # a new set of notes each round
        times["ours"].append(_time_round(ours, batch))
        times["theirs"].append(_time_round(theirs, batch))
    best_ours = min(w for w, _ in times["ours"])
    best_theirs = min(w for w, _ in times["theirs"])
    cpu_ours = min(c for _, c in times["ours"])
    cpu_theirs = min(c for _, c in times["theirs"])
    rate_ours, rate_theirs = len(notes) / best_ours, len(notes) / best_theirs

    print(f"python {sys.version.split()[0]}, {pinned}, load average {os.getloadavg()[0]:.2f}")
    print(
        f"{len(notes)} notes a round, mean {words:.0f} words; best of {args.rounds} interleaved "
        "rounds, each a new set (order shuffled, numbers redrawn)"
    )
    print(f"backtriage.text import: {import_s:.2f} s (spaCy + medspaCy imports included)")
    median = statistics.median(loads)
    print(f"TextReader() load:      {min(loads):.2f} s best, {median:.2f} s median"
          f"   (target < 1 s)")  # fmt: skip
    print(f"medspacy.load():        {medspacy_load_s:.2f} s")
    print()
    print(f"{'pipeline':<46}{'notes/s':>9}{'ms/note':>9}{'CPU notes/s':>13}")
    for name, wall, cpu in (
        ("backtriage TextReader.read (findings+values)", best_ours, cpu_ours),
        ("medspacy.load() default pipeline", best_theirs, cpu_theirs),
    ):
        print(f"{name:<46}{len(notes) / wall:>9.1f}{1000 * wall / len(notes):>9.1f}"
              f"{len(notes) / cpu:>13.1f}")  # fmt: skip
    print()
    print(f"speed-up: {rate_ours / rate_theirs:.1f}x wall-clock, {cpu_theirs / cpu_ours:.1f}x CPU"
          "   (targets: >= 4x and >= 100 notes/s)")  # fmt: skip


if __name__ == "__main__":
    main()
