"""The closed rule grammar of the knowledge base, and its parser.

A rule is a small tree (after business-rules: ``all`` / ``any`` / ``not`` over leaves)::

    {all: [RULE, ...]}            true when every part is true
    {any: [RULE, ...]}            true when some part is true
    {not: RULE}
    {at_least: N, of: [RULE, ...]}
    {finding: ID}                 the finding is present   ({finding: ID, is: absent} etc.)
    {fact: NAME, op: OP, value: V}   e.g. {fact: age, op: ">", value: 50}
    {suspected: CONDITION_ID}     that condition is suspected (conditions are decided first)
    {most_likely: CONDITION_ID}   that condition is the working diagnosis (decided after them)
    {missing: NAME}               the fact NAME is not known

The engine evaluates rules in three-valued (Kleene) logic: a leaf about an unknown finding or a
missing fact is *unknown*, never false, so "unknown is not absent" holds by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Union

from backtriage.case import MEASUREMENT_IDS

#: What a rule may compare: the case's own values, its measurements (the case format's, named
#: once, in ``case.MEASUREMENT_IDS``) and the STarT Back risk.
FACTS = (
    "age",
    "sex",
    "duration_days",
    "conservative_therapy_weeks",
    "surgical_candidate",
    *MEASUREMENT_IDS,
    "start_back_risk",
)
OPS = ("<", "<=", ">", ">=", "==", "!=")
STATES = ("present", "absent", "unknown")

Op = Literal["<", "<=", ">", ">=", "==", "!="]


@dataclass(frozen=True)
class All:
    parts: tuple[Rule, ...]


@dataclass(frozen=True)
class Any_:
    parts: tuple[Rule, ...]


@dataclass(frozen=True)
class Not:
    part: Rule


@dataclass(frozen=True)
class AtLeast:
    count: int
    parts: tuple[Rule, ...]


@dataclass(frozen=True)
class FindingIs:
    finding: str
    state: str = "present"


@dataclass(frozen=True)
class FactCompare:
    fact: str
    op: str
    value: float | str | bool


@dataclass(frozen=True)
class Suspected:
    condition: str


@dataclass(frozen=True)
class MostLikely:
    condition: str


@dataclass(frozen=True)
class Missing:
    fact: str


Rule = Union[All, Any_, Not, AtLeast, FindingIs, FactCompare, Suspected, MostLikely, Missing]  # noqa: UP007

ALWAYS: Rule = All(())
_NODES = (All, Any_, Not, AtLeast, FindingIs, FactCompare, Suspected, MostLikely, Missing)

_LEAF_KEYS = {
    "all": {"all"},
    "any": {"any"},
    "not": {"not"},
    "at_least": {"at_least", "of"},
    "finding": {"finding", "is"},
    "fact": {"fact", "op", "value"},
    "suspected": {"suspected"},
    "most_likely": {"most_likely"},
    "missing": {"missing"},
}


class RuleSyntaxError(ValueError):
    """A rule does not follow the grammar; ``path`` says where inside the rule."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


def parse_rule(data: object, path: str = "") -> Rule:
    """Build a rule tree from its YAML form, or raise :class:`RuleSyntaxError` saying where."""
    if isinstance(data, _NODES):
        return data
    if not isinstance(data, dict) or not data:
        raise RuleSyntaxError(path, f"a rule must be a mapping with one of {sorted(_LEAF_KEYS)}")
    kinds = [key for key in _LEAF_KEYS if key in data]
    if len(kinds) != 1:
        raise RuleSyntaxError(
            path, f"a rule needs exactly one of {sorted(_LEAF_KEYS)}, got keys {sorted(data)}"
        )
    kind = kinds[0]
    unknown = set(data) - _LEAF_KEYS[kind]
    if unknown:
        raise RuleSyntaxError(
            path,
            f"unknown key(s) {sorted(unknown)} in a '{kind}' rule; allowed: "
            f"{sorted(_LEAF_KEYS[kind])}",
        )
    here = f"{path}.{kind}" if path else kind
    if kind in ("all", "any"):
        parts = _parse_list(data[kind], here)
        return All(parts) if kind == "all" else Any_(parts)
    if kind == "not":
        return Not(parse_rule(data["not"], here))
    if kind == "at_least":
        count = data["at_least"]
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise RuleSyntaxError(here, "at_least needs a whole number of 1 or more")
        if "of" not in data:
            raise RuleSyntaxError(here, "at_least needs 'of': a list of rules")
        parts = _parse_list(data["of"], f"{path}.of" if path else "of")
        if count > len(parts):
            raise RuleSyntaxError(
                here, f"at_least {count} of only {len(parts)} rules can never hold"
            )
        return AtLeast(count, parts)
    if kind == "finding":
        state = data.get("is", "present")
        if state not in STATES:
            raise RuleSyntaxError(here, f"'is' must be one of {list(STATES)}, not {state!r}")
        return FindingIs(_name(data["finding"], here), state)
    if kind == "fact":
        fact = _name(data["fact"], here)
        if fact not in FACTS:
            raise RuleSyntaxError(here, f"unknown fact {fact!r}; known facts: {', '.join(FACTS)}")
        op = data.get("op")
        if op not in OPS:
            raise RuleSyntaxError(here, f"op must be one of {list(OPS)}, not {op!r}")
        if "value" not in data:
            raise RuleSyntaxError(here, "a fact rule needs a 'value'")
        value = data["value"]
        if not isinstance(value, (int, float, str, bool)):
            raise RuleSyntaxError(here, "value must be a number, a string or true/false")
        return FactCompare(fact, op, value)
    if kind == "suspected":
        return Suspected(_name(data["suspected"], here))
    if kind == "most_likely":
        return MostLikely(_name(data["most_likely"], here))
    fact = _name(data["missing"], here)
    if fact not in FACTS:
        raise RuleSyntaxError(here, f"unknown fact {fact!r}; known facts: {', '.join(FACTS)}")
    return Missing(fact)


def _parse_list(items: object, path: str) -> tuple[Rule, ...]:
    if not isinstance(items, list):
        raise RuleSyntaxError(path, "expected a list of rules")
    return tuple(parse_rule(item, f"{path}[{i}]") for i, item in enumerate(items))


def _name(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise RuleSyntaxError(path, "expected an id (a non-empty string)")
    return value


def walk(rule: Rule) -> list[Rule]:
    """Every node of ``rule``, the rule itself first."""
    nodes: list[Rule] = [rule]
    if isinstance(rule, (All, Any_, AtLeast)):
        for part in rule.parts:
            nodes.extend(walk(part))
    elif isinstance(rule, Not):
        nodes.extend(walk(rule.part))
    return nodes


def findings_named(rule: Rule) -> set[str]:
    return {node.finding for node in walk(rule) if isinstance(node, FindingIs)}


def conditions_named(rule: Rule) -> set[str]:
    return {node.condition for node in walk(rule) if isinstance(node, Suspected | MostLikely)}


@lru_cache(maxsize=4096)
def describe(rule: Rule) -> str:
    """A short readable form of a rule, for traces and `kb` listings."""
    if isinstance(rule, All):
        return "always" if not rule.parts else "(" + " and ".join(map(describe, rule.parts)) + ")"
    if isinstance(rule, Any_):
        return "(" + " or ".join(map(describe, rule.parts)) + ")"
    if isinstance(rule, Not):
        return f"not {describe(rule.part)}"
    if isinstance(rule, AtLeast):
        return f"at least {rule.count} of [" + ", ".join(map(describe, rule.parts)) + "]"
    if isinstance(rule, FindingIs):
        return rule.finding if rule.state == "present" else f"{rule.finding} is {rule.state}"
    if isinstance(rule, FactCompare):
        return f"{rule.fact} {rule.op} {rule.value}"
    if isinstance(rule, Suspected):
        return f"{rule.condition} suspected"
    if isinstance(rule, MostLikely):
        return f"{rule.condition} most likely"
    return f"{rule.fact} not known"
