"""The seed as a golden test: for the seed's case, the report carries every recommendation of
the reference document (shared/seed/000_b1782ba4194db97d.txt), in its section order.

Each entry is (seed sentence, the words the report must carry for it).  The words are the seed's
own where the knowledge base keeps its wording; if any recommendation disappears or moves out of
order, this test fails and names it.
"""

from __future__ import annotations

import pytest

from backtriage.api import assess_case, parse_case
from backtriage.engine import assess
from backtriage.knowledge import Knowledge
from backtriage.report import to_markdown
from tests.conftest import TODAY

SEED_CASE = {"findings": {"spasms": "present"}}

SEED = [
    (
        "most consistent with nonspecific mechanical low back pain",
        "most consistent with nonspecific mechanical low back pain, which requires clinical triage "
        "to exclude red flag conditions but does not warrant routine imaging",
    ),
    ("## Most Likely Diagnosis", "## Most likely diagnosis"),
    (
        "Nonspecific mechanical low back pain is the most probable diagnosis",
        "Nonspecific mechanical low back pain is the most probable diagnosis",
    ),
    ("Muscle spasms are a common feature", "Muscle spasms are a common feature of mechanical"),
    ("## Critical Red Flag Assessment Required", "## Critical red flag assessment"),
    ("Cauda Equina Syndrome (Emergency)", "### Cauda equina syndrome (emergency)"),
    (
        "Assess immediately for: urinary retention ...",
        "Assess immediately for: urinary retention, fecal incontinence, saddle anesthesia "
        "(perianal numbness), bilateral leg weakness, or motor deficits at multiple levels",
    ),
    (
        "If present: Obtain urgent MRI lumbar spine without contrast immediately",
        "If present: Obtain urgent MRI lumbar spine without contrast immediately — delayed "
        "diagnosis leads to permanent disability",
    ),
    ("Malignancy", "### Spinal malignancy"),
    (
        "Screen for: history of cancer ... age >50, weight loss, failure to improve",
        "Screen for: history of cancer, age >50 years, unexplained weight loss, or failure to "
        "improve after 1 month",
    ),
    ("history of cancer increases probability from 0.7%", "pretest 0.66%"),
    (
        "If multiple risk factors present: Consider plain radiography or ESR",
        "If multiple risk factors (or a history of cancer) present: Consider plain radiography or "
        "ESR (≥20 mm/h has 78% sensitivity for cancer), with MRI reserved for abnormalities",
    ),
    ("Spinal Infection", "### Spinal infection"),
    (
        "Screen for: fever, recent infection, intravenous drug use, or immunocompromised status",
        "Screen for: fever, recent infection, intravenous drug use, or immunocompromised status",
    ),
    (
        "If suspected: Obtain urgent MRI with and without contrast plus laboratory studies",
        "If suspected: Obtain urgent MRI with and without contrast plus laboratory studies (CBC, "
        "ESR, CRP)",
    ),
    ("Vertebral Compression Fracture", "### Vertebral compression fracture"),
    (
        "Screen for: older age, history of osteoporosis, or corticosteroid use",
        "Screen for older age, history of osteoporosis, or corticosteroid use",
    ),
    (
        "If suspected: Plain radiography is appropriate initial imaging",
        "If suspected: Plain radiography is appropriate initial imaging",
    ),
    ("## Evaluation Strategy", "## Evaluation strategy"),
    ("Document pain characteristics", "Document pain characteristics: location"),
    (
        "frequency, duration, previous episodes",
        "frequency, duration, and any previous episodes with treatment response",
    ),
    (
        "Assess for radiculopathy: leg pain below the knee",
        "Assess for radiculopathy: ask about leg pain below the knee in a dermatomal distribution",
    ),
    (
        "Neurologic examination: L4, L5, S1",
        "test knee strength and reflexes (L4), great toe and foot dorsiflexion (L5), and foot "
        "plantarflexion and ankle reflexes (S1)",
    ),
    (
        "Evaluate psychosocial factors",
        "Evaluate psychosocial factors: depression, job dissatisfaction, and passive coping "
        "strategies are stronger predictors of outcomes than physical findings",
    ),
    ("## Imaging Decisions", "## Imaging decisions"),
    (
        "Do NOT obtain routine imaging for nonspecific low back pain",
        "Do NOT obtain routine imaging for nonspecific low back pain — it does not improve "
        "outcomes, exposes patients to unnecessary radiation, and identifies abnormalities that "
        "correlate poorly with symptoms",
    ),
    (
        "Imaging is indicated only if: red flags are present (obtain imaging promptly)",
        "Imaging is indicated only if: red flags are present (obtain imaging promptly)",
    ),
    (
        "Symptoms persist beyond 4-6 weeks despite conservative therapy AND surgical candidate",
        "symptoms persist beyond 4-6 weeks despite conservative therapy AND the patient is a "
        "potential surgical candidate",
    ),
    (
        "Plain radiography may be reasonable for persistent symptoms at 1-2 months",
        "plain radiography may be reasonable for persistent symptoms at 1-2 months if there is no "
        "radiculopathy",
    ),
    ("## Management Approach", "## Management approach"),
    (
        "Provide reassurance",
        "Provide reassurance: inform the patient that acute low back pain "
        "has a favorable prognosis with high likelihood of substantial improvement within the "
        "first month",
    ),
    (
        "Advise to remain active",
        "Advise to remain active: staying active is more effective than "
        "bed rest — avoid prolonged rest",
    ),
    (
        "Prescribe appropriate analgesia: NSAIDs",
        "Prescribe appropriate analgesia: NSAIDs have moderate evidence for short-term benefit in "
        "mechanical low back pain",
    ),
    ("## Follow-Up Strategy", "## Follow-up strategy"),
    (
        "Reassess at 1 month if symptoms persist or worsen",
        "Reassess at 1 month if symptoms persist or worsen, as most patients experience "
        "substantial "
        "improvement in the first month",
    ),
    (
        "Earlier reassessment is appropriate",
        "Earlier reassessment is appropriate if severe pain, functional deficits, or signs of "
        "radiculopathy develop",
    ),
    ("## Common Pitfalls to Avoid", "## Common pitfalls to avoid"),
    (
        "Do not order MRI in the first 4-6 weeks unless red flags are present",
        "Do not order MRI in the first 4-6 weeks unless red flags are present — early imaging "
        "leads "
        "to unnecessary interventions without improving outcomes",
    ),
    (
        "Do not assume unilateral location excludes serious pathology",
        "Do not assume unilateral location excludes serious pathology — screen systematically for "
        "red flags regardless of pain laterality",
    ),
    (
        "Do not overlook psychosocial factors",
        "Do not overlook psychosocial factors — they predict outcomes more strongly than physical "
        "examination findings and should guide treatment intensity",
    ),
    (
        "Do not prescribe prolonged bed rest",
        "Do not prescribe prolonged bed rest — it worsens outcomes compared to maintaining "
        "activity",
    ),
]


@pytest.fixture(scope="module")
def report(kb: Knowledge) -> str:
    return to_markdown(assess(parse_case(SEED_CASE, kb), kb, TODAY), kb)


def test_every_seed_recommendation_is_in_the_report_in_order(report: str) -> None:
    position = 0
    for seed_sentence, words in SEED:
        found = report.find(words, position)
        assert found >= 0, (
            f"missing or out of order: {seed_sentence!r} (looked for {words!r} after offset "
            f"{position})"
        )
        position = found + len(words)


def test_seed_decisions(kb: Knowledge) -> None:
    result = assess(parse_case(SEED_CASE, kb), kb, TODAY)
    assert result.urgency == "routine"
    assert result.most_likely == "nonspecific_low_back_pain"
    assert result.imaging == [] and result.labs == []
    assert {c.id: c.status for c in result.conditions if c.kind == "red_flag"} == {
        "cauda_equina_syndrome": "not_excluded",
        "malignancy": "not_excluded",
        "spinal_infection": "not_excluded",
        "vertebral_compression_fracture": "not_excluded",
    }
    assert result.follow_up.reassess_in_days == 28
    # What the seed says to assess first is what the report asks first.
    assert result.unassessed[:5] == [
        "urinary_retention",
        "fecal_incontinence",
        "saddle_anesthesia",
        "bilateral_leg_weakness",
        "multilevel_motor_deficit",
    ]


def test_history_of_cancer_reaches_about_9_percent_as_the_seed_says(kb: Knowledge) -> None:
    case = parse_case({"findings": {"spasms": "present", "history_of_cancer": "present"}}, kb)
    result = assess(case, kb, TODAY)
    malignancy = next(c for c in result.conditions if c.id == "malignancy")
    assert malignancy.probability is not None
    assert round(malignancy.probability.posttest or 0, 2) == 0.09


def test_the_bare_complaint_gives_the_seed_report(kb: Knowledge) -> None:
    """The seed's own input is the bare complaint: read as text, it gives the same report, with
    the location the complaint names."""
    case = parse_case({"complaint": "Mid-Lower Left Back Pain with Spasms"}, kb)
    result = assess_case(case, kb, TODAY)
    assert result.findings["spasms"] == "present"
    assert [e.text for e in result.evidence["spasms"]] == ["Spasms"]
    report = to_markdown(result, kb)
    position = 0
    for seed_sentence, words in SEED:
        found = report.find(words, position)
        assert found >= 0, f"missing or out of order: {seed_sentence!r}"
        position = found + len(words)
    assert "Document pain characteristics: location (mid-lower left back)" in report
    assert result.urgency == "routine" and result.imaging == []
