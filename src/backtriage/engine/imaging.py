"""Imaging and laboratory tests now — usually none — and the ACR 2021 variant(s) that apply."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backtriage.assessment import AcrVariantMatch, ImagingOrder, TraceStep, trusted
from backtriage.engine.logic import Facts, tri_word
from backtriage.engine.prepared import prepared
from backtriage.knowledge import Knowledge
from backtriage.knowledge.schema import ImagingOrder as KbOrder

TIMING_ORDER = {"immediate": 0, "prompt": 1, "routine": 2}
LAB_ORDER = ("cbc", "esr", "crp", "urinalysis")


@dataclass(frozen=True)
class Plan:
    orders: list[ImagingOrder]
    labs: list[str]
    variants: list[AcrVariantMatch]
    trace: list[TraceStep]
    cited: frozenset[str]


MEMO_LIMIT = 100_000


def plan(knowledge: Knowledge, facts: Facts) -> Plan:
    """Tests now and the ACR variants: a pure function of the suspected conditions and the
    verdicts of the imaging and ACR matching rules, so it is shared between cases that agree on
    them (the caller copies the lists it keeps)."""
    ready = prepared(knowledge)
    verdicts = ready.plan_verdicts(facts)
    split = len(knowledge.imaging_rules)
    imaging, matching = verdicts[:split], verdicts[split:]
    key = (facts.suspected, verdicts)
    memo = ready.plans
    found: Plan | None = memo.get(key)
    if found is None:
        if len(memo) > MEMO_LIMIT:
            memo.clear()
        found = memo[key] = _plan(knowledge, facts.suspected, imaging, matching)
    return found


def _plan(
    knowledge: Knowledge,
    suspected: frozenset[str],
    imaging: tuple[bool | None, ...],
    matching: tuple[bool | None, ...],
) -> Plan:
    ready = prepared(knowledge)
    trace: list[TraceStep] = []
    wanted: list[tuple[KbOrder, str, int | None]] = []
    labs: set[str] = set()
    for cid in sorted(suspected, key=lambda c: knowledge.conditions[c].priority):
        condition = knowledge.conditions[cid]
        wanted += [(order, cid, condition.acr_variant) for order in condition.imaging]
        labs.update(condition.labs)
    for rule, verdict in zip(knowledge.imaging_rules, imaging, strict=True):
        trace.append(
            ready.trace(
                ready.labels[f"imaging:{rule.id}"],
                tri_word(verdict),
                f"orders {rule.order.study}" if verdict else "no order",
            )
        )
        if verdict is True:
            wanted.append((rule.order, rule.id, rule.acr_variant))
    orders = _merge(knowledge, wanted)
    variants = _variants(knowledge, matching, trace)
    cited = {ref for order in orders for ref in order.citations}
    cited.update(ref for variant in variants for ref in variant.citations)
    return Plan(
        orders=orders,
        labs=[lab for lab in LAB_ORDER if lab in labs],
        variants=variants,
        trace=trace,
        cited=frozenset(cited),
    )


def merge_labs(*groups: Iterable[str]) -> list[str]:
    """One list of laboratory tests, in the usual order, from conditions and recommendations."""
    wanted = set().union(*groups)
    return [lab for lab in LAB_ORDER if lab in wanted]


def _merge(
    knowledge: Knowledge, wanted: list[tuple[KbOrder, str, int | None]]
) -> list[ImagingOrder]:
    """One order per study: the earliest timing asked for, every reason and citation kept."""
    by_study: dict[str, list[tuple[KbOrder, str, int | None]]] = {}
    for item in wanted:
        by_study.setdefault(item[0].study, []).append(item)
    orders: list[ImagingOrder] = []
    for study, items in by_study.items():
        first = min(items, key=lambda item: TIMING_ORDER[item[0].timing])
        variant = next((v for _, _, v in items if v is not None), None)
        orders.append(
            trusted(
                ImagingOrder,
                study=study,
                timing=first[0].timing,
                why=" ".join(dict.fromkeys(order.why for order, _, _ in items)),
                citations=list(
                    dict.fromkeys(ref for order, _, _ in items for ref in order.citations)
                ),
                for_conditions=list(dict.fromkeys(source for _, source, _ in items)),
                acr=_acr_cell(knowledge, variant, study),
            )
        )
    return sorted(orders, key=lambda order: TIMING_ORDER[order.timing])


def _acr_cell(knowledge: Knowledge, variant: int | None, study: str) -> dict[str, object] | None:
    if variant is None:
        return None
    procedure = next((p for p in knowledge.acr.procedures if p.study == study), None)
    if procedure is None:
        return None
    rating = next(
        r for r in knowledge.acr_variants[variant].ratings if r.procedure == procedure.name
    )
    return {
        "variant": variant,
        "procedure": procedure.name,
        "category": rating.category,
        "rrl": procedure.rrl,
    }


def _variants(
    knowledge: Knowledge, verdicts: tuple[bool | None, ...], trace: list[TraceStep]
) -> list[AcrVariantMatch]:
    ready = prepared(knowledge)
    matched: list[int] = []
    fallbacks: list[int] = []
    why: dict[int, str] = {}
    for match, verdict in zip(knowledge.acr.matching, verdicts, strict=True):
        trace.append(
            ready.trace(ready.labels[f"acr:{match.variant}"], tri_word(verdict), match.why)
        )
        if verdict is True:
            (fallbacks if match.fallback else matched).append(match.variant)
            why[match.variant] = match.why
    chosen = matched or fallbacks
    if not matched and len(fallbacks) > 1:
        for number in fallbacks:
            why[number] = (
                why[number].rstrip(".") + " — the duration is not given, so both are shown."
            )
    out: list[AcrVariantMatch] = []
    for number in sorted(chosen):
        key = (number, why[number])
        found = ready.variant_matches.get(key)
        if found is None:
            found = ready.variant_matches[key] = _variant_match(knowledge, number, why[number])
        out.append(found)
    return out


def _variant_match(knowledge: Knowledge, number: int, why: str) -> AcrVariantMatch:
    variant = knowledge.acr_variants[number]
    return trusted(
        AcrVariantMatch,
        variant=number,
        text=variant.text,
        why=why,
        appropriate=[r.procedure for r in variant.ratings if r.category == "Usually Appropriate"],
        may_be_appropriate=[
            r.procedure
            for r in variant.ratings
            if r.category.startswith("May Be Appropriate") and "Disagreement" not in r.category
        ]
        + [
            f"{r.procedure} (disagreement)" for r in variant.ratings if "Disagreement" in r.category
        ],
        citations=list(knowledge.acr.citations),
    )
