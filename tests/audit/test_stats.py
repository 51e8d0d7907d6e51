from __future__ import annotations

import pytest

from backtriage.audit.stats import wilson


def test_wilson_known_values() -> None:
    # 8/10 with z = 1.96, worked by hand from the formula: centre 0.7167, half-width 0.2266.
    lo, hi = wilson(8, 10) or (0.0, 0.0)
    assert lo == pytest.approx(0.4902, abs=1e-4)
    assert hi == pytest.approx(0.9433, abs=1e-4)


def test_wilson_edges() -> None:
    assert wilson(0, 0) is None
    lo, hi = wilson(0, 1) or (1.0, 0.0)
    assert lo == 0.0
    assert hi == pytest.approx(0.7935, abs=1e-4)
    lo, hi = wilson(5, 5) or (0.0, 0.0)
    assert hi == 1.0
    with pytest.raises(ValueError):
        wilson(6, 5)
