"""Shared results are keyed by what they read; the fast key and its fallback must agree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backtriage.engine.logic import Facts
from backtriage.engine.prepared import prepared
from backtriage.knowledge import load_knowledge

KB = load_knowledge()
STATES = st.sampled_from(["present", "absent", "unknown"])


@settings(max_examples=150, deadline=None)
@given(
    findings=st.dictionaries(st.sampled_from(sorted(KB.findings)), STATES),
    age=st.one_of(st.none(), st.integers(18, 95)),
    duration=st.one_of(st.none(), st.integers(0, 400)),
)
def test_condition_keys_agree_on_full_and_partial_findings(
    findings: dict[str, str], age: int | None, duration: int | None
) -> None:
    facts = {"age": age, "duration_days": duration}
    full = Facts(findings={**dict.fromkeys(KB.findings, "unknown"), **findings}, facts=facts)  # type: ignore[arg-type]
    partial = Facts(findings={k: v for k, v in findings.items() if v != "unknown"}, facts=facts)  # type: ignore[arg-type]
    for _, inputs in prepared(KB).condition_inputs:
        assert inputs.key(full) == inputs.key(partial)
