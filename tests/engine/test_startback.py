"""STarT Back scoring at every boundary (Hill 2008): total 3/4, distress 3/4, item 9 scoring."""

from __future__ import annotations

import pytest

from backtriage.engine.startback import score


@pytest.mark.parametrize(
    ("answers", "total", "distress", "risk"),
    [
        ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0, 0, "low"),
        ([1, 1, 1, 0, 0, 0, 0, 0, 0], 3, 0, "low"),  # total 3: low
        ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, 0, "medium"),  # total 4: not low
        ([0, 0, 0, 0, 1, 1, 1, 0, 0], 3, 3, "low"),  # distress 3 but total 3
        ([1, 0, 0, 0, 1, 1, 1, 0, 0], 4, 3, "medium"),  # distress 3: medium
        ([0, 0, 0, 0, 1, 1, 1, 1, 0], 4, 4, "high"),  # distress 4: high
        ([1, 1, 1, 1, 1, 1, 1, 1, 4], 9, 5, "high"),
        ([1, 1, 1, 1, 1, 1, 1, 0, 2], 7, 3, "medium"),  # item 9 "moderately" scores 0
        ([1, 1, 1, 1, 1, 1, 1, 0, 3], 8, 4, "high"),  # item 9 "very much" scores 1
    ],
)
def test_scoring(answers: list[int], total: int, distress: int, risk: str) -> None:
    result = score(answers)
    assert result is not None
    assert (result.total, result.distress, result.risk) == (total, distress, risk)
    assert result.answers == answers


def test_not_answered_is_none() -> None:
    assert score(None) is None
