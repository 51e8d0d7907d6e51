"""Three-valued rule evaluation: unknown is never false."""

from __future__ import annotations

import pytest

from backtriage.engine.logic import Facts, evaluate
from backtriage.knowledge.rules import RuleSyntaxError, describe, parse_rule


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
