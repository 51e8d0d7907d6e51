"""The packaged knowledge base loads clean; each deliberately broken fixture raises the errors it
names (tests/knowledge/invalid/*.yaml: which file to break, how, and what must be reported)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from backtriage.case import MEASUREMENT_IDS
from backtriage.errors import KnowledgeError
from backtriage.knowledge import Knowledge, load_knowledge
from backtriage.knowledge.checks import CONTRACT_CONDITIONS, CONTRACT_FINDINGS
from backtriage.knowledge.loader import FILES, packaged_data

INVALID = Path(__file__).parent / "invalid"


def test_packaged_knowledge_loads(kb: Knowledge) -> None:
    assert set(CONTRACT_FINDINGS) <= set(kb.findings)
    assert set(CONTRACT_CONDITIONS) == set(kb.conditions)
    assert len(kb.acr.variants) == 7 and len(kb.acr.procedures) == 11
    assert sum(len(v.ratings) for v in kb.acr.variants) == 77
    assert len(kb.version) == 12
    assert tuple(kb.measurements) == MEASUREMENT_IDS


def test_acr_keeps_its_own_wording(kb: Knowledge) -> None:
    cells = [(v.number, r.procedure, r.category) for v in kb.acr.variants for r in v.ratings]
    assert (7, "Radiography lumbar spine", "May Be Appropriate (Disagreement)") in cells
    assert {c for number, _, c in cells if number == 1} == {"Usually Not Appropriate"}


def test_every_finding_has_a_question_and_every_reference_a_link(kb: Knowledge) -> None:
    for finding in kb.findings.values():
        assert finding.ask.strip()
    for ref in kb.references.values():
        assert ref.link.startswith("https://")


def broken_copy(tmp_path: Path, spec: dict[str, Any]) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in FILES.values():
        shutil.copyfile(str(packaged_data() / name), folder / name)
    for edit in (spec, spec.get("also")):
        if not edit:
            continue
        target = folder / edit["file"]
        if edit.get("delete"):
            target.unlink()
            continue
        text = target.read_text(encoding="utf-8")
        for change in edit.get("replace", []):
            assert text.count(change["old"]) == 1, f"fixture text not found once: {change['old']!r}"
            text = text.replace(change["old"], change["new"])
        if "append" in edit:
            text = text.rstrip("\n") + "\n" + edit["append"]
        target.write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("fixture", sorted(INVALID.glob("*.yaml")), ids=lambda p: p.stem)
def test_broken_fixture_is_caught(fixture: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(fixture.read_text(encoding="utf-8"))
    folder = broken_copy(tmp_path, spec)
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(folder)
    report = str(info.value)
    for expected in spec["expect"]:
        assert expected in report, f"{fixture.stem}: expected {expected!r} in:\n{report}"
    assert info.value.problems, "the error lists its problems"


def test_fixtures_cover_every_kind_of_error() -> None:
    names = {p.stem for p in INVALID.glob("*.yaml")}
    assert len(names) >= 15


def test_codes_are_verified_and_point_at_known_ids(kb: Knowledge) -> None:
    coded = {fid for fid, codes in kb.codes.findings.items() if codes}
    assert {"urinary_retention", "fever", "osteoporosis", "history_of_cancer"} <= coded
    for codes in [*kb.codes.findings.values(), *kb.codes.conditions.values()]:
        for code in codes:
            assert code.verified and code.verified_from
    assert all(kb.codes.conditions[cid] for cid in kb.conditions)
