"""Post-test probabilities from published pretest figures and likelihood ratios.

Bayes in odds form: post-odds = pre-odds × Π LR, with LR+ for each finding known present and
LR− for each finding known absent; unknown findings change nothing.  Every figure used is listed
with its source and certainty, and the independence assumption is stated with the result.
"""

from __future__ import annotations

from collections.abc import Mapping

from backtriage.assessment import FigureUse, Probability, trusted
from backtriage.case import FindingState
from backtriage.engine.prepared import prepared
from backtriage.knowledge import Knowledge
from backtriage.knowledge.schema import Figure


def probability(
    knowledge: Knowledge, condition: str, findings: Mapping[str, FindingState]
) -> Probability | None:
    model = knowledge.models.get(condition)
    if model is None:
        return None
    uses = prepared(knowledge).figure_uses
    pretest_figure = knowledge.figures[model.pretest]
    pretest = float(pretest_figure.value or 0.0)
    used = [_use(uses, pretest_figure, None, None, None)]
    posttest: float | None
    if_present: dict[str, float] = {}
    if model.method == "bayes":
        odds = pretest / (1 - pretest)
        unknown: list[tuple[str, float]] = []
        for fid, figure_id in model.findings.items():
            state = findings.get(fid, "unknown")
            figure = knowledge.figures[figure_id]
            lr_pos, lr_neg = figure.likelihood_ratios
            if state == "unknown":
                if lr_pos is not None:
                    unknown.append((fid, lr_pos))
                    used.append(_use(uses, figure, fid, "unknown", lr_pos))
                continue
            lr = lr_pos if state == "present" else lr_neg
            if lr is None:
                continue  # no LR− published: an absent finding then changes nothing
            odds *= lr
            used.append(_use(uses, figure, fid, state, lr))
        posttest = odds / (1 + odds)
        # What each finding still unknown would do if it were present (the seed's "history of
        # cancer increases the probability from 0.7% to 9%").
        if_present = {fid: round(odds * lr / (1 + odds * lr), 6) for fid, lr in unknown}
    elif model.method == "published_posttest":
        present = [
            knowledge.figures[figure_id]
            for fid, figure_id in model.findings.items()
            if findings.get(fid) == "present"
        ]
        posttest = max((float(f.value or 0.0) for f in present), default=None)
        used += [_use(uses, f, f.finding, "present", None) for f in present]
        if posttest is None and all(findings.get(fid) == "unknown" for fid in model.findings):
            posttest = pretest  # nothing known yet: the pretest figure stands
    else:
        posttest = None
    citations = list(dict.fromkeys(ref for use in used for ref in use.citations))
    return trusted(
        Probability,
        pretest=round(pretest, 6),
        posttest=None if posttest is None else round(posttest, 6),
        method=model.method,
        figures=used,
        assumption=model.assumption,
        if_present=if_present,
        unverified=any(use.certainty == "unverified" for use in used),
        citations=citations,
    )


def _use(
    uses: dict[tuple[str, str | None, str | None, float | None], FigureUse],
    figure: Figure,
    finding: str | None,
    state: FindingState | None,
    lr: float | None,
) -> FigureUse:
    key = (figure.id, finding, state, lr)
    found = uses.get(key)
    if found is None:
        found = uses[key] = _build_use(figure, finding, state, lr)
    return found


def _build_use(
    figure: Figure, finding: str | None, state: FindingState | None, lr: float | None
) -> FigureUse:
    return trusted(
        FigureUse,
        id=figure.id,
        finding=finding,
        state=state,
        kind=figure.kind,
        value=figure.value,
        lr=None if lr is None else round(lr, 3),
        certainty=figure.certainty,
        setting=figure.setting,
        source_text=figure.source_text,
        citations=list(figure.references),
    )
