"""Post-test probabilities from published figures, every figure shown with its source."""

from __future__ import annotations

import pytest

from backtriage.knowledge import Knowledge
from tests.conftest import run


def malignancy(result):  # type: ignore[no-untyped-def]
    return next(c for c in result.conditions if c.id == "malignancy").probability


def test_history_of_cancer_moves_07_percent_to_about_9(kb: Knowledge) -> None:
    p = malignancy(run(kb, findings={"history_of_cancer": "present"}))
    assert p.pretest == pytest.approx(0.0066)
    # 0.0066 pretest odds × LR+ 15.5 (sensitivity 0.31, specificity 0.98) ≈ 9.3%
    assert p.posttest == pytest.approx(0.0933, abs=0.001)
    known = [f for f in p.figures if f.state not in (None, "unknown")]
    assert [f.finding for f in known] == ["history_of_cancer"]
    assert known[0].lr == pytest.approx(15.5)
    assert "independent" in p.assumption


def test_absent_findings_lower_the_probability(kb: Knowledge) -> None:
    p = malignancy(run(kb, age=40, findings={"history_of_cancer": "absent"}))
    assert p.posttest is not None and p.posttest < p.pretest
    used = {f.finding: f.state for f in p.figures if f.state in ("present", "absent")}
    assert used == {"history_of_cancer": "absent", "age_over_50": "absent"}


def test_unknown_findings_change_nothing(kb: Knowledge) -> None:
    p = malignancy(run(kb))
    assert p.posttest == p.pretest
    assert all(f.state in (None, "unknown") for f in p.figures)
    # ... and the report can say what each would do: a history of cancer, 0.66% → about 9%.
    assert p.if_present["history_of_cancer"] == pytest.approx(0.0933, abs=0.001)


def test_fracture_shows_the_highest_published_post_test(kb: Knowledge) -> None:
    result = run(kb, age=80, findings={"prolonged_corticosteroid_use": "present"})
    p = next(c for c in result.conditions if c.id == "vertebral_compression_fracture").probability
    assert p.method == "published_posttest"
    assert p.posttest == pytest.approx(0.33)  # Downie 2013: corticosteroids 33% > older age 9%


def test_unverified_figures_are_flagged(kb: Knowledge) -> None:
    result = run(kb)
    infection = next(c for c in result.conditions if c.id == "spinal_infection").probability
    assert infection.unverified is True
    assert infection.posttest is None


def test_every_figure_cites_a_reference(kb: Knowledge) -> None:
    for figure in kb.figures.values():
        assert figure.references
        assert all(ref in kb.references for ref in figure.references)
