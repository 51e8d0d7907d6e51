"""Keele STarT Back Screening Tool scoring (Hill 2008; matched treatment, Hill 2011).

Total = all nine items (0–9); distress subscale = items 5–9 (0–5).  Total 0–3: low risk;
otherwise distress 4–5: high risk, else medium.  Item 9 is answered on a 0–4 scale and scores 1
only for "very much" or "extremely" (3 or 4).
"""

from __future__ import annotations

from collections.abc import Sequence

from backtriage.assessment import StartBack, trusted

LOW_MAX_TOTAL = 3
HIGH_MIN_DISTRESS = 4
ITEM9_SCORING_FROM = 3


def score(answers: Sequence[int] | None) -> StartBack | None:
    if answers is None:
        return None
    items = [*answers[:8], 1 if answers[8] >= ITEM9_SCORING_FROM else 0]
    total = sum(items)
    distress = sum(items[4:9])
    if total <= LOW_MAX_TOTAL:
        risk = "low"
    elif distress >= HIGH_MIN_DISTRESS:
        risk = "high"
    else:
        risk = "medium"
    return trusted(StartBack, total=total, distress=distress, risk=risk, answers=list(answers))
