"""Three-valued rule evaluation: unknown is never false."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtriage.engine.logic import Facts, compile_rule, compile_rules, evaluate, interpret
from backtriage.knowledge import load_knowledge
from backtriage.knowledge.rules import (
    All,
    Any_,
    AtLeast,
    FactCompare,
    FindingIs,
    Missing,
    MostLikely,
    Not,
    Rule,
    RuleSyntaxError,
    Suspected,
    describe,
    parse_rule,
)


def facts(**states: str) -> Facts:
    return Facts(findings=states, facts={"age": 60, "sex": "female", "duration_days": None})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "expected"), [("present", True), ("absent", False), ("unknown", None)]
)
def test_finding_leaf(state: str, expected: bool | None) -> None:
    assert evaluate(parse_rule({"finding": "fever"}), facts(fever=state)) is expected


def test_finding_not_given_is_unknown() -> None:
    assert evaluate(parse_rule({"finding": "fever"}), facts()) is None


@pytest.mark.parametrize(
    ("a", "b", "all_", "any_"),
    [
        ("present", "present", True, True),
        ("present", "absent", False, True),
        ("present", "unknown", None, True),
        ("absent", "unknown", False, None),
        ("absent", "absent", False, False),
        ("unknown", "unknown", None, None),
    ],
)
def test_kleene_and_or(a: str, b: str, all_: bool | None, any_: bool | None) -> None:
    leaves = [{"finding": "a"}, {"finding": "b"}]
    f = facts(a=a, b=b)
    assert evaluate(parse_rule({"all": leaves}), f) is all_
    assert evaluate(parse_rule({"any": leaves}), f) is any_


def test_not_of_unknown_is_unknown() -> None:
    assert evaluate(parse_rule({"not": {"finding": "a"}}), facts(a="unknown")) is None
    assert evaluate(parse_rule({"not": {"finding": "a"}}), facts(a="absent")) is True


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (("present", "present", "unknown"), True),
        (("present", "absent", "absent"), False),
        (("present", "unknown", "absent"), None),
    ],
)
def test_at_least(states: tuple[str, str, str], expected: bool | None) -> None:
    rule = parse_rule({"at_least": 2, "of": [{"finding": "a"}, {"finding": "b"}, {"finding": "c"}]})
    assert evaluate(rule, facts(a=states[0], b=states[1], c=states[2])) is expected


def test_fact_leaves() -> None:
    f = facts()
    assert evaluate(parse_rule({"fact": "age", "op": ">", "value": 50}), f) is True
    assert evaluate(parse_rule({"fact": "age", "op": ">", "value": 60}), f) is False
    assert evaluate(parse_rule({"fact": "duration_days", "op": "<", "value": 28}), f) is None
    assert evaluate(parse_rule({"missing": "duration_days"}), f) is True
    assert evaluate(parse_rule({"fact": "sex", "op": "<", "value": 3}), f) is False


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"findng": "a"}, "needs exactly one of"),
        ({"finding": "a", "is": "yes"}, "'is' must be one of"),
        ({"fact": "height", "op": ">", "value": 1}, "unknown fact 'height'"),
        ({"fact": "age", "op": "=>", "value": 1}, "op must be one of"),
        ({"at_least": 3, "of": [{"finding": "a"}]}, "can never hold"),
        ({"all": {"finding": "a"}}, "expected a list of rules"),
        ({"any": [{"finding": "a", "extra": 1}]}, "unknown key(s) ['extra']"),
    ],
)
def test_parse_errors_say_where_and_what(rule: dict[str, object], message: str) -> None:
    with pytest.raises(RuleSyntaxError, match=None) as info:
        parse_rule(rule)
    assert message in str(info.value)


def test_describe_reads_like_the_rule() -> None:
    rule = parse_rule({"any": [{"finding": "a"}, {"at_least": 1, "of": [{"missing": "age"}]}]})
    assert describe(rule) == "(a or at least 1 of [age not known])"


# The compiled form (one generated function per rule) must agree with the node-by-node
# definition on every rule and every state of the facts, the knowledge base's own rules included.

_FIND = st.sampled_from(["a", "b", "c"])
_LEAVES = st.one_of(
    st.builds(FindingIs, _FIND, st.sampled_from(["present", "absent", "unknown"])),
    st.builds(
        FactCompare,
        st.sampled_from(["age", "sex"]),
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        st.one_of(st.integers(40, 80), st.just("female")),
    ),
    st.builds(Suspected, st.sampled_from(["x", "y"])),
    st.builds(MostLikely, st.sampled_from(["x", "y"])),
    st.builds(Missing, st.sampled_from(["age", "duration_days"])),
)
_RULES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.builds(All, st.lists(inner, max_size=4).map(tuple)),
        st.builds(Any_, st.lists(inner, max_size=4).map(tuple)),
        st.builds(Not, inner),
        st.lists(inner, min_size=1, max_size=4).flatmap(
            lambda parts: st.builds(AtLeast, st.integers(1, len(parts)), st.just(tuple(parts)))
        ),
    ),
    max_leaves=12,
)
_FACTS = st.builds(
    Facts,
    findings=st.dictionaries(_FIND, st.sampled_from(["present", "absent", "unknown"])),
    facts=st.fixed_dictionaries(
        {},
        optional={
            "age": st.one_of(st.none(), st.integers(30, 90), st.just("old")),
            "sex": st.sampled_from(["female", "male"]),
            "duration_days": st.integers(0, 100),
        },
    ),
    suspected=st.frozensets(st.sampled_from(["x", "y"])),
    most_likely=st.sampled_from([None, "x", "y"]),
)


@settings(max_examples=400, deadline=None)
@given(rule=_RULES, f=_FACTS)
def test_compiled_rules_agree_with_their_definition(rule: Rule, f: Facts) -> None:
    assert compile_rule(rule)(f) is interpret(rule, f)


_KB = load_knowledge()
_KB_RULES = [c.suspect_when for c in _KB.conditions.values()]
_KB_RULES += [r.applies for r in _KB.recommendations] + [m.when for m in _KB.acr.matching]
_KB_FACTS = st.builds(
    Facts,
    findings=st.dictionaries(
        st.sampled_from(sorted(_KB.findings)), st.sampled_from(["present", "absent", "unknown"])
    ),
    facts=st.fixed_dictionaries(
        {},
        optional={
            "age": st.integers(18, 95),
            "duration_days": st.integers(0, 400),
            "conservative_therapy_weeks": st.integers(0, 10),
            "surgical_candidate": st.booleans(),
            "start_back_risk": st.sampled_from(["low", "medium", "high"]),
        },
    ),
    suspected=st.frozensets(st.sampled_from(sorted(_KB.conditions))),
    most_likely=st.sampled_from([None, *sorted(_KB.conditions)]),
)


@settings(max_examples=200, deadline=None)
@given(f=_KB_FACTS)
def test_knowledge_base_rules_compile_to_their_definition(f: Facts) -> None:
    for rule in _KB_RULES:
        assert compile_rule(rule)(f) is interpret(rule, f)
    together = compile_rules(tuple(_KB_RULES))(f)
    assert [v is interpret(rule, f) for v, rule in zip(together, _KB_RULES, strict=True)] == [
        True
    ] * len(_KB_RULES)
