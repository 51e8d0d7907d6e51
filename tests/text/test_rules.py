"""The rule files: ids against the one list and the knowledge base, coverage, and broken files."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
import yaml

from backtriage.errors import KnowledgeError
from backtriage.knowledge import load_knowledge
from backtriage.knowledge.checks import CONTRACT_FINDINGS
from backtriage.text import TextReader
from backtriage.text.rules import load_rules


def _tokenize(text: str) -> list[str]:
    return text.split()


def test_every_rule_names_a_listed_finding(reader: TextReader) -> None:
    listed = set(reader.finding_ids)
    for concept in reader.rules.concepts.values():
        assert set(concept.finding_ids) <= listed, concept.id


def test_every_issue_finding_is_listed_and_covered(reader: TextReader) -> None:
    listed = set(reader.finding_ids)
    assert set(CONTRACT_FINDINGS) <= listed  # the ids DESIGN.md names
    covered = {f for c in reader.rules.concepts.values() for f in c.finding_ids}
    # Each id is set present by some rule and absent by a denial or a normal statement.
    assert listed <= covered, sorted(listed - covered)


def test_ids_match_the_knowledge_base(reader: TextReader) -> None:
    findings = load_knowledge().findings
    kb_ids = set(findings)
    # Derived findings (age over 50, ESR 20 or more) come from values, never from words.
    settable = {fid for fid, f in findings.items() if f.derived is None}
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


def test_a_broken_forms_file_is_reported(tmp_path: Path) -> None:
    root = _copy_rules(tmp_path)
    forms = root / "forms.yaml"
    data = yaml.safe_load(forms.read_text(encoding="utf-8"))
    data["boxes"]["ticked"] = []
    data["answers"]["maybe_words"] = ["maybe"]
    data["radios"]["filled"] = ["◉"]
    forms.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_rules(_tokenize, root)
    text = str(info.value)
    assert "forms.yaml: boxes.ticked" in text
    assert "forms.yaml: answers.maybe_words" in text
    assert "forms.yaml: radios.filled" in text


def test_a_mark_listed_twice_is_reported(tmp_path: Path) -> None:
    # Read as whichever list came last, a radio's "( )" would stop being a checklist's box.
    root = _copy_rules(tmp_path)
    forms = root / "forms.yaml"
    data = yaml.safe_load(forms.read_text(encoding="utf-8"))
    data["radios"]["unticked"].append("( )")
    forms.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"the mark '\( \)' is listed 2 times"):
        load_rules(_tokenize, root)


def test_no_means_present_needs_a_normal(tmp_path: Path) -> None:
    # A "no" turns a normal into its finding; on a finding's own phrase it would mean nothing.
    root = _copy_rules(tmp_path)
    course = root / "targets" / "course.yaml"
    data = yaml.safe_load(course.read_text(encoding="utf-8"))
    data["concepts"][0]["no_means_present"] = True
    course.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="no_means_present is for a normal function"):
        load_rules(_tokenize, root)
