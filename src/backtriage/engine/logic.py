"""Three-valued (Kleene) evaluation of knowledge-base rules.

``True`` and ``False`` are known answers; ``None`` is *unknown*.  A leaf about an unknown finding
or a missing fact is unknown, never false, so nothing unknown is ever taken as absent.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from backtriage.assessment import TriWord
from backtriage.case import FindingState
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
    Suspected,
)

Tri = bool | None

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Facts:
    """What rules may look at: finding states, case facts, and (later) the conditions decided."""

    findings: Mapping[str, FindingState]
    facts: Mapping[str, Any]
    suspected: frozenset[str] = field(default_factory=frozenset)
    most_likely: str | None = None


def evaluate(rule: Rule, facts: Facts) -> Tri:
    # Keyed by identity: hashing a rule tree on every call cost more than evaluating it.
    entry = _BY_ID.get(id(rule))
    if entry is None or entry[0] is not rule:
        entry = _BY_ID[id(rule)] = (rule, compile_rule(rule))
    return entry[1](facts)


Compiled = Callable[[Facts], Tri]
_BY_ID: dict[int, tuple[Rule, Compiled]] = {}


@cache
def compile_rule(rule: Rule) -> Compiled:
    """Turn a rule tree into nested closures once; rules are immutable and hashable."""
    if isinstance(rule, FindingIs):
        fid, wanted = rule.finding, rule.state

        if wanted == "unknown":
            return lambda f: f.findings.get(fid, "unknown") == "unknown"

        def finding(f: Facts) -> Tri:
            state = f.findings.get(fid, "unknown")
            return None if state == "unknown" else state == wanted

        return finding
    if isinstance(rule, FactCompare):
        name, op, target = rule.fact, _OPS[rule.op], rule.value

        def fact(f: Facts) -> Tri:
            value = f.facts.get(name)
            if value is None:
                return None
            try:
                return op(value, target)
            except TypeError:
                return False  # comparing unlike types (a number with a word) never holds

        return fact
    if isinstance(rule, All):
        parts = tuple(map(compile_rule, rule.parts))

        def all_(f: Facts) -> Tri:
            unknown = False
            for part in parts:
                result = part(f)
                if result is False:
                    return False
                unknown = unknown or result is None
            return None if unknown else True

        return all_
    if isinstance(rule, Any_):
        parts = tuple(map(compile_rule, rule.parts))

        def any_(f: Facts) -> Tri:
            unknown = False
            for part in parts:
                result = part(f)
                if result is True:
                    return True
                unknown = unknown or result is None
            return None if unknown else False

        return any_
    if isinstance(rule, AtLeast):
        parts, count = tuple(map(compile_rule, rule.parts)), rule.count

        def at_least(f: Facts) -> Tri:
            results = [part(f) for part in parts]
            true = results.count(True)
            if true >= count:
                return True
            return False if true + results.count(None) < count else None

        return at_least
    if isinstance(rule, Not):
        inner = compile_rule(rule.part)

        def not_(f: Facts) -> Tri:
            result = inner(f)
            return None if result is None else not result

        return not_
    if isinstance(rule, Suspected):
        condition = rule.condition
        return lambda f: condition in f.suspected
    if isinstance(rule, MostLikely):
        condition = rule.condition
        return lambda f: f.most_likely == condition
    if isinstance(rule, Missing):
        name = rule.fact
        return lambda f: f.facts.get(name) is None
    raise TypeError(f"not a rule: {rule!r}")  # pragma: no cover - the parser admits no other


def tri_word(value: Tri) -> TriWord:
    return "unknown" if value is None else ("true" if value else "false")
