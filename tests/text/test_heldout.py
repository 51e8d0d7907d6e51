"""Held-out notes (tests/text/heldout/), written after the rules were frozen.

The development set is what the rules were tuned on, so its F1 is optimistic.  Each held-out
batch was scored once before any rule was changed for it; those first scores are the honest
estimates for unseen text:

- ``notes.yaml`` (20 notes): micro-F1 0.881 (74 tp, 4 fp, 16 fn), no present read as absent;
- ``notes2.yaml`` (15 notes): micro-F1 0.885 (46 tp, 4 fp, 8 fn), no present read as absent.

Generic phrasings missed in them were then added to the rules (so today's scores here are no
longer independent; the next estimate needs new notes).  The floor stays low on purpose.
"""

from __future__ import annotations

import pytest

from backtriage.text import TextReader
from tests.text.devset import load_heldout, score

MIN_F1 = 0.8


def test_heldout_f1(reader: TextReader, capsys: pytest.CaptureFixture[str]) -> None:
    overall, _, dangerous = score(reader, load_heldout())
    with capsys.disabled():
        print(
            f"\nheld-out micro-F1 {overall.f1:.3f} (tp {overall.tp}, fp {overall.fp}, "
            f"fn {overall.fn})"
        )
    assert not dangerous, "\n".join(dangerous)
    assert overall.f1 >= MIN_F1, "\n".join(overall.errors)
