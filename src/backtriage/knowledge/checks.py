"""Cross-reference checks over a parsed knowledge base: every id resolves, every statement cites,
no reference is unused, the red-flag rules can only raise suspicion, the ACR table is complete."""

from __future__ import annotations

from collections.abc import Iterator

from backtriage.case import MEASUREMENT_IDS
from backtriage.knowledge.loader import Knowledge
from backtriage.knowledge.rules import (
    FindingIs,
    Missing,
    Not,
    Rule,
    conditions_named,
    findings_named,
    walk,
)
from backtriage.knowledge.schema import Disagreement, Statement

# The contract ids (DESIGN.md): the knowledge base may add more, never drop one.
CONTRACT_FINDINGS = [
    "spasms",
    "radiating_leg_pain_below_knee",
    "neurogenic_claudication",
    "night_pain",
    "no_improvement_after_1_month",
    "previous_episodes",
    "morning_stiffness_over_30_min",
    "urinary_retention",
    "urinary_incontinence",
    "fecal_incontinence",
    "saddle_anesthesia",
    "bilateral_leg_weakness",
    "bilateral_sciatica",
    "multilevel_motor_deficit",
    "progressive_neurologic_deficit",
    "sexual_dysfunction",
    "history_of_cancer",
    "unexplained_weight_loss",
    "fever",
    "recent_infection",
    "iv_drug_use",
    "immunocompromised",
    "recent_spinal_procedure",
    "osteoporosis",
    "prolonged_corticosteroid_use",
    "significant_trauma",
    "contusion_or_abrasion",
    "positive_straight_leg_raise",
    "crossed_straight_leg_raise",
    "knee_extension_weakness",
    "diminished_patellar_reflex",
    "great_toe_extension_weakness",
    "ankle_dorsiflexion_weakness",
    "plantarflexion_weakness",
    "diminished_achilles_reflex",
    "dermatomal_sensory_loss",
    "depression",
    "job_dissatisfaction",
    "passive_coping",
    "fear_avoidance",
    "pulsatile_abdominal_mass",
    "dysuria",
    "hematuria",
    "costovertebral_angle_tenderness",
]
CONTRACT_CONDITIONS = [
    "nonspecific_low_back_pain",
    "radiculopathy",
    "spinal_stenosis",
    "cauda_equina_syndrome",
    "malignancy",
    "spinal_infection",
    "vertebral_compression_fracture",
    "abdominal_aortic_aneurysm",
    "renal_cause",
    "axial_spondyloarthritis",
]
RED_FLAG_CONDITIONS = (
    "cauda_equina_syndrome",
    "malignancy",
    "spinal_infection",
    "vertebral_compression_fracture",
)


def cross_check(kb: Knowledge) -> list[str]:
    problems: list[str] = []
    problems += _contract(kb)
    problems += _findings(kb)
    problems += _conditions(kb)
    problems += _recommendations(kb)
    problems += _evidence(kb)
    problems += _acr(kb)
    problems += _citations(kb)
    problems += _codes(kb)
    return problems


def _codes(kb: Knowledge) -> list[str]:
    out = [
        f"codes.yaml: findings: unknown finding id {fid!r}"
        for fid in kb.codes.findings
        if fid not in kb.findings
    ]
    out += [
        f"codes.yaml: conditions: unknown condition id {cid!r}"
        for cid in kb.codes.conditions
        if cid not in kb.conditions
    ]
    out += [
        f"codes.yaml: conditions: {cid!r} has no codes listed (give [] if none exists)"
        for cid in kb.conditions
        if cid not in kb.codes.conditions
    ]
    return out


def _contract(kb: Knowledge) -> list[str]:
    out = [
        f"findings.yaml: contract finding id {fid!r} is missing (ids may be added, never removed)"
        for fid in CONTRACT_FINDINGS
        if fid not in kb.findings
    ]
    out += [
        f"conditions.yaml: contract condition id {cid!r} is missing"
        for cid in CONTRACT_CONDITIONS
        if cid not in kb.conditions
    ]
    out += [
        f"conditions.yaml: {cid!r} must be of kind red_flag (it is always reported)"
        for cid in RED_FLAG_CONDITIONS
        if cid in kb.conditions and kb.conditions[cid].kind != "red_flag"
    ]
    # The case format's measurements, no more: a case could not carry another one.
    out += [
        f"measurements.yaml: contract measurement id {mid!r} is missing"
        for mid in MEASUREMENT_IDS
        if mid not in kb.measurements
    ]
    out += [
        f"measurements.yaml: {mid!r} is not a measurement of the case format "
        f"({', '.join(MEASUREMENT_IDS)})"
        for mid in kb.measurements
        if mid not in MEASUREMENT_IDS
    ]
    return out


def _rule_refs(kb: Knowledge, rule: Rule, where: str) -> list[str]:
    out = [
        f"{where}: unknown finding id {fid!r}"
        for fid in sorted(findings_named(rule))
        if fid not in kb.findings
    ]
    out += [
        f"{where}: unknown condition id {cid!r}"
        for cid in sorted(conditions_named(rule))
        if cid not in kb.conditions
    ]
    return out


def _findings(kb: Knowledge) -> list[str]:
    out: list[str] = []
    for fid, finding in kb.findings.items():
        where = f"findings.yaml: {fid}"
        for key, rule in (("derived", finding.derived), ("present_when", finding.present_when)):
            if rule is None:
                continue
            if findings_named(rule):
                out.append(f"{where}.{key}: may only compare facts, not other findings")
            if conditions_named(rule):
                out.append(f"{where}.{key}: may not depend on conditions")
    return out


def _conditions(kb: Knowledge) -> list[str]:
    out: list[str] = []
    priorities: dict[int, str] = {}
    for cid, condition in kb.conditions.items():
        where = f"conditions.yaml: {cid}"
        if condition.priority in priorities:
            out.append(
                f"{where}: priority {condition.priority} is also {priorities[condition.priority]!r}"
            )
        priorities[condition.priority] = cid
        out += [
            f"{where}.screening: unknown finding id {fid!r}"
            for fid in condition.screening
            if fid not in kb.findings
        ]
        out += _rule_refs(kb, condition.suspect_when, f"{where}.suspect_when")
        if conditions_named(condition.suspect_when):
            out.append(f"{where}.suspect_when: may not depend on other conditions")
        if condition.kind == "red_flag":
            # Never under-triage: a red-flag rule must only ever be raised by findings becoming
            # present, so it may not use negation, absent/unknown tests or missing facts.
            for node in walk(condition.suspect_when):
                if isinstance(node, Not | Missing) or (
                    isinstance(node, FindingIs) and node.state != "present"
                ):
                    out.append(
                        f"{where}.suspect_when: red-flag rules must be monotone "
                        f"(no 'not', 'missing' or 'is: absent/unknown')"
                    )
                    break
            if not condition.screening:
                out.append(f"{where}: a red-flag condition needs screening items")
            if condition.screen_statement is None or condition.if_suspected is None:
                out.append(f"{where}: a red-flag condition needs screen_statement and if_suspected")
        for level, fids in (condition.levels or {}).items():
            out += [
                f"{where}.levels.{level}: unknown finding id {fid!r}"
                for fid in fids
                if fid not in kb.findings
            ]
        if condition.acr_variant is not None and condition.acr_variant not in kb.acr_variants:
            out.append(f"{where}.acr_variant: no ACR variant {condition.acr_variant}")
    return out


def _recommendations(kb: Knowledge) -> list[str]:
    out: list[str] = []
    for rec in kb.recommendations:
        out += _rule_refs(kb, rec.applies, f"recommendations.yaml: {rec.id}.applies")
    for rule in kb.imaging_rules:
        where = f"recommendations.yaml: imaging_rules {rule.id}"
        out += _rule_refs(kb, rule.when, f"{where}.when")
        if rule.acr_variant is not None and rule.acr_variant not in kb.acr_variants:
            out.append(f"{where}.acr_variant: no ACR variant {rule.acr_variant}")
    return out


def _evidence(kb: Knowledge) -> list[str]:
    out: list[str] = []
    for fig in kb.figures.values():
        where = f"evidence.yaml: figures {fig.id}"
        if fig.condition not in kb.conditions:
            out.append(f"{where}: unknown condition id {fig.condition!r}")
        if fig.finding is not None and fig.finding not in kb.findings:
            out.append(f"{where}: unknown finding id {fig.finding!r}")
    for cid, model in kb.models.items():
        where = f"evidence.yaml: models {cid}"
        if cid not in kb.conditions:
            out.append(f"{where}: unknown condition id {cid!r}")
        pretest = kb.figures.get(model.pretest)
        if pretest is None:
            out.append(f"{where}.pretest: unknown figure id {model.pretest!r}")
        elif pretest.kind != "pretest" or pretest.condition != cid:
            out.append(f"{where}.pretest: {model.pretest!r} is not a pretest figure for {cid}")
        for fid, figure_id in model.findings.items():
            used = kb.figures.get(figure_id)
            if fid not in kb.findings:
                out.append(f"{where}.findings: unknown finding id {fid!r}")
            if used is None:
                out.append(f"{where}.findings.{fid}: unknown figure id {figure_id!r}")
            elif model.method == "bayes" and used.kind not in (
                "likelihood_ratio",
                "sensitivity_specificity",
            ):
                out.append(f"{where}.findings.{fid}: {figure_id!r} gives no likelihood ratio")
            elif model.method == "published_posttest" and used.kind != "posttest":
                out.append(f"{where}.findings.{fid}: {figure_id!r} is not a post-test figure")
            elif used.finding != fid or used.condition != cid:
                out.append(
                    f"{where}.findings.{fid}: {figure_id!r} is about "
                    f"{used.finding} for {used.condition}"
                )
    return out


def _acr(kb: Knowledge) -> list[str]:
    out: list[str] = []
    names = [p.name for p in kb.acr.procedures]
    for variant in kb.acr.variants:
        rated = [r.procedure for r in variant.ratings]
        for name in sorted(set(rated) - set(names)):
            out.append(f"acr_lbp_2021.yaml: variant {variant.number}: unknown procedure {name!r}")
        for name in names:
            if rated.count(name) != 1:
                out.append(
                    f"acr_lbp_2021.yaml: variant {variant.number}: {name!r} rated "
                    f"{rated.count(name)} times (expected once)"
                )
    for match in kb.acr.matching:
        where = f"acr_lbp_2021.yaml: matching variant {match.variant}"
        if match.variant not in kb.acr_variants:
            out.append(f"{where}: no such variant")
        out += _rule_refs(kb, match.when, f"{where}.when")
    numbers = sorted(kb.acr_variants)
    if numbers != list(range(1, len(numbers) + 1)):
        out.append(f"acr_lbp_2021.yaml: variants must be numbered 1..n, got {numbers}")
    return out


def _cited(kb: Knowledge) -> Iterator[tuple[str, str]]:
    """Every (place, reference id) the knowledge base cites."""

    def statement(where: str, item: Statement | Disagreement | None) -> Iterator[tuple[str, str]]:
        if isinstance(item, Statement):
            yield from ((where, ref) for ref in item.citations)
        elif isinstance(item, Disagreement):
            for i, pos in enumerate(item.positions):
                yield from ((f"{where}.positions[{i}]", ref) for ref in pos.citations)

    for cid, c in kb.conditions.items():
        where = f"conditions.yaml: {cid}"
        yield from statement(f"{where}.screen_statement", c.screen_statement)
        yield from statement(f"{where}.if_suspected", c.if_suspected)
        yield from statement(f"{where}.caveat", c.caveat)
        yield from statement(f"{where}.disagreement", c.disagreement)
        for i, order in enumerate(c.imaging):
            yield from ((f"{where}.imaging[{i}]", ref) for ref in order.citations)
    for rec in kb.recommendations:
        where = f"recommendations.yaml: {rec.id}"
        yield from ((where, ref) for ref in rec.citations)
        yield from statement(f"{where}.disagreement", rec.disagreement)
    for rule in kb.imaging_rules:
        where = f"recommendations.yaml: imaging_rules {rule.id}.order"
        yield from ((where, ref) for ref in rule.order.citations)
    for fig in kb.figures.values():
        yield from ((f"evidence.yaml: figures {fig.id}", ref) for ref in fig.references)
    yield from (("acr_lbp_2021.yaml", ref) for ref in kb.acr.citations)


def _citations(kb: Knowledge) -> list[str]:
    out: list[str] = []
    used: set[str] = set()
    for where, ref in _cited(kb):
        used.add(ref)
        if ref not in kb.references:
            out.append(f"{where}: cites unknown reference {ref!r}")
    out += [
        f"references.yaml: {rid}: never cited (remove it, or cite it where it is used)"
        for rid in kb.references
        if rid not in used
    ]
    return out
