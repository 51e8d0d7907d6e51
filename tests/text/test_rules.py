"""The rule files: ids against the one list and the knowledge base, coverage, and broken files."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
import yaml

from backtriage.errors import KnowledgeError
from backtriage.text import TextReader
from backtriage.text.rules import load_rules

KNOWLEDGE_FINDINGS = (
    Path(__file__).resolve().parents[2] / "src/backtriage/knowledge/data/findings.yaml"
)
# Finding ids the issue names; the reader's list must hold every one of them.
ISSUE_IDS = [
    "spasms",
    "radiating_leg_pain_below_knee",
    "neurogenic_claudication",
    "night_pain",
    "no_improvement_after_1_month",
    "previous_episodes",
    "morning_stiffness_over_30_min",
    "insidious_onset",
    "improvement_with_exercise",
    "alternating_buttock_pain",
    "waking_second_half_of_night",
    "no_pain_when_seated",
    "relief_bending_forward",
    "bilateral_buttock_or_leg_pain",
    "wide_based_gait",
    "prior_lumbar_surgery",
    "urinary_retention",
    "urinary_incontinence",
    "fecal_incontinence",
    "saddle_anesthesia",
    "bilateral_leg_weakness",
    "bilateral_sciatica",
    "multilevel_motor_deficit",
    "progressive_neurologic_deficit",
    "sexual_dysfunction",
    "reduced_anal_tone",
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


def _tokenize(text: str) -> list[str]:
    return text.split()


def test_every_rule_names_a_listed_finding(reader: TextReader) -> None:
    listed = set(reader.finding_ids)
    for concept in reader.rules.concepts.values():
        assert set(concept.finding_ids) <= listed, concept.id


def test_every_issue_finding_is_listed_and_covered(reader: TextReader) -> None:
    listed = set(reader.finding_ids)
    assert set(ISSUE_IDS) <= listed
    covered = {f for c in reader.rules.concepts.values() for f in c.finding_ids}
    # Each id is set present by some rule and absent by a denial or a normal statement.
    assert listed <= covered, sorted(listed - covered)


def test_ids_match_the_knowledge_base(reader: TextReader) -> None:
    if not KNOWLEDGE_FINDINGS.exists():
        pytest.skip("src/backtriage/knowledge/data/findings.yaml does not exist yet")
    data = yaml.safe_load(KNOWLEDGE_FINDINGS.read_text(encoding="utf-8"))
    entries = data["findings"]
    kb_ids = {e["id"] for e in entries}
    # Derived findings (age over 50, ESR 20 or more) come from values, never from words.
    settable = {e["id"] for e in entries if e.get("kind") != "derived" and "derived" not in e}
    mine = set(reader.finding_ids)
    assert mine <= kb_ids, f"ids unknown to the knowledge base: {sorted(mine - kb_ids)}"
    covered = {f for c in reader.rules.concepts.values() for f in c.finding_ids}
    assert settable <= covered, (
        f"knowledge-base findings no rule reads: {sorted(settable - covered)}"
    )


def _copy_rules(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    source = resources.files("backtriage.text").joinpath("data")
    with resources.as_file(source) as path:
        shutil.copytree(path, root)
    return root


def test_broken_rule_files_report_every_problem(tmp_path: Path) -> None:
    root = _copy_rules(tmp_path)
    course = root / "targets" / "course.yaml"
    data = yaml.safe_load(course.read_text(encoding="utf-8"))
    data["concepts"][0]["phrases"].append("(unclosed group")
    data["concepts"][0]["findings"] = ["spasm"]  # misspelt id
    data["concepts"][1]["colour"] = "red"  # unknown key
    data["concepts"][2]["phrases"].append("{no_such_class} pain")
    course.write_text(yaml.safe_dump(data), encoding="utf-8")
    (root / "sections.yaml").write_text("schema_version: 2\nsections: []\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_rules(_tokenize, root)
    text = str(info.value)
    assert len(info.value.problems) >= 5, text
    assert "unbalanced bracket" in text
    assert "unknown finding id 'spasm'" in text
    assert "colour" in text
    assert "unknown class {no_such_class}" in text
    assert "sections.yaml" in text


def test_unreadable_yaml_is_a_knowledge_error(tmp_path: Path) -> None:
    root = _copy_rules(tmp_path)
    (root / "context.yaml").write_text("modifiers: [\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"context\.yaml: cannot be read"):
        load_rules(_tokenize, root)
