"""Three-valued (Kleene) evaluation of knowledge-base rules.

``True`` and ``False`` are known answers; ``None`` is *unknown*.  A leaf about an unknown finding
or a missing fact is unknown, never false, so nothing unknown is ever taken as absent.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, NamedTuple

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


class Facts(NamedTuple):
    """What rules may look at: finding states, case facts, and (later) the conditions decided.
    (A named tuple: immutable, and cheap to build twice per assessment.)"""

    findings: Mapping[str, FindingState]
    facts: Mapping[str, Any]
    suspected: frozenset[str] = frozenset()
    most_likely: str | None = None


def evaluate(rule: Rule, facts: Facts) -> Tri:
    # Keyed by identity: hashing a rule tree on every call cost more than evaluating it.
    entry = _BY_ID.get(id(rule))
    if entry is None or entry[0] is not rule:
        entry = _BY_ID[id(rule)] = (rule, compile_rule(rule))
    return entry[1](facts)


Compiled = Callable[[Facts], Tri]
_BY_ID: dict[int, tuple[Rule, Compiled]] = {}


def interpret(rule: Rule, facts: Facts) -> Tri:
    """The definition of a rule's verdict, node by node.  ``compile_rule`` is the fast form the
    engine runs; the tests check that the two agree on random rules and facts."""
    if isinstance(rule, FindingIs):
        state = facts.findings.get(rule.finding, "unknown")
        if rule.state == "unknown":
            return state == "unknown"
        return None if state == "unknown" else state == rule.state
    if isinstance(rule, FactCompare):
        return _fact(facts.facts.get(rule.fact), _OPS[rule.op], rule.value)
    if isinstance(rule, All | Any_ | AtLeast):
        results = [interpret(part, facts) for part in rule.parts]
        needed = len(results) if isinstance(rule, All) else 1 if isinstance(rule, Any_) else 0
        if isinstance(rule, AtLeast):
            needed = rule.count
        true = results.count(True)
        if true >= needed:
            return True
        return False if true + results.count(None) < needed else None
    if isinstance(rule, Not):
        result = interpret(rule.part, facts)
        return None if result is None else not result
    if isinstance(rule, Suspected):
        return rule.condition in facts.suspected
    if isinstance(rule, MostLikely):
        return facts.most_likely == rule.condition
    if isinstance(rule, Missing):
        return facts.facts.get(rule.fact) is None
    raise TypeError(f"not a rule: {rule!r}")  # pragma: no cover - the parser admits no other


def _fact(value: Any, op: Callable[[Any, Any], bool], target: Any) -> Tri:
    if value is None:
        return None
    try:
        return op(value, target)
    except TypeError:
        return False  # comparing unlike types (a number with a word) never holds


def _at_least(count: int, results: tuple[Tri, ...]) -> Tri:
    true = results.count(True)
    if true >= count:
        return True
    return False if true + results.count(None) < count else None


@cache
def compile_rule(rule: Rule) -> Compiled:
    """Turn a rule tree into one Python function, once; rules are immutable and hashable.

    Each node becomes an inline expression (Kleene AND/OR short-circuit on a decisive part), so
    a rule costs one call instead of one per node.  Only ``repr`` of validated ids and numbers is
    written into the source."""
    names = _Names()
    return _function(_expression(rule, names), names)  # type: ignore[no-any-return]


def compile_rules(rules: tuple[Rule, ...]) -> Callable[[Facts], tuple[Tri, ...]]:
    """One function giving the verdicts of several rules at once, in order (one call per case
    instead of one per rule)."""
    names = _Names()
    parts = [_expression(rule, names) for rule in rules]
    return _function(f"({''.join(part + ', ' for part in parts)})", names)  # type: ignore[no-any-return]


def compile_key(findings: tuple[str, ...], tests: tuple[Rule, ...]) -> Callable[[Facts], Any]:
    """One function giving what a shared result depends on: the states of ``findings`` and the
    verdicts of ``tests`` (fact tests such as ``age > 50``).  It reads the findings map by key,
    so it raises ``KeyError`` on a partial map; the caller falls back to a slower path then."""
    names = _Names()
    parts = [f"S[{fid!r}]" for fid in findings] + [_expression(test, names) for test in tests]
    names.findings = True
    return _function(f"({''.join(part + ', ' for part in parts)})", names)  # type: ignore[no-any-return]


def _function(body: str, names: _Names) -> Any:
    head = ["def rule(f):"]
    if names.findings:
        head.append("    S = f.findings")
    if names.facts:
        head.append("    X = f.facts")
    source = "\n".join([*head, f"    return {body}"])
    scope: dict[str, Any] = {"_fact": _fact, "_at_least": _at_least, **names.constants}
    exec(compile(source, "<knowledge-base rule>", "exec"), scope)
    return scope["rule"]


class _Names:
    def __init__(self) -> None:
        self.count = 0
        self.findings = False
        self.facts = False
        self.constants: dict[str, Any] = {}

    def temp(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def constant(self, value: Any) -> str:
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name


def _expression(rule: Rule, names: _Names) -> str:
    if isinstance(rule, FindingIs):
        names.findings = True
        fid, wanted = repr(rule.finding), repr(rule.state)
        if rule.state == "unknown":
            return f"(S.get({fid}, 'unknown') == 'unknown')"
        t = names.temp()
        return f"(None if ({t} := S.get({fid}, 'unknown')) == 'unknown' else {t} == {wanted})"
    if isinstance(rule, FactCompare):
        names.facts = True
        op, target = names.constant(_OPS[rule.op]), names.constant(rule.value)
        return f"_fact(X.get({rule.fact!r}), {op}, {target})"
    if isinstance(rule, All | Any_):
        if not rule.parts:
            return "True" if isinstance(rule, All) else "False"
        decisive, other = ("False", "True") if isinstance(rule, All) else ("True", "False")
        temps = [names.temp() for _ in rule.parts]
        parts = [_expression(part, names) for part in rule.parts]
        found = " or ".join(
            f"({t} := {p}) is {decisive}" for t, p in zip(temps, parts, strict=True)
        )
        unknown = " or ".join(f"{t} is None" for t in temps)
        return f"({decisive} if ({found}) else (None if ({unknown}) else {other}))"
    if isinstance(rule, AtLeast):
        parts = [_expression(part, names) for part in rule.parts]
        return f"_at_least({rule.count}, ({', '.join(parts)},))"
    if isinstance(rule, Not):
        t = names.temp()
        return f"(None if ({t} := {_expression(rule.part, names)}) is None else not {t})"
    if isinstance(rule, Suspected):
        return f"({rule.condition!r} in f.suspected)"
    if isinstance(rule, MostLikely):
        return f"(f.most_likely == {rule.condition!r})"
    if isinstance(rule, Missing):
        names.facts = True
        return f"(X.get({rule.fact!r}) is None)"
    raise TypeError(f"not a rule: {rule!r}")  # pragma: no cover - the parser admits no other


def tri_word(value: Tri) -> TriWord:
    return "unknown" if value is None else ("true" if value else "false")
