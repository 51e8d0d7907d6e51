"""The patient handout's data: validated against the knowledge base (all problems at once), chosen
by the assessment, and written at a reading age of about 11-12."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest
import yaml

from backtriage.api import assess
from backtriage.errors import KnowledgeError
from backtriage.knowledge import Knowledge
from backtriage.web import handout


def raw() -> dict[str, Any]:
    text = (resources.files("backtriage.web") / "data" / "handout.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_the_packaged_handout_is_valid(kb: Knowledge) -> None:
    data = handout.load(kb)
    assert set(data.most_likely) == set(kb.conditions)
    assert all(s.cite for _, s in data.sentences())


def test_a_broken_handout_names_every_problem(kb: Knowledge) -> None:
    data = raw()
    del data["most_likely"]["renal_cause"]
    data["most_likely"]["nonspecific_low_back_pain"]["do"][0]["cite"] = ["chou2077"]
    data["urgency"]["routine"]["come_back"]["text"] = "Come back {days}."
    with pytest.raises(KnowledgeError) as error:
        handout.check(data, kb)
    problems = error.value.problems
    assert any("no sentences for condition 'renal_cause'" in p for p in problems)
    assert any(
        "most_likely.nonspecific_low_back_pain.do: unknown reference id 'chou2077'" in p
        for p in problems
    )
    assert any("urgency.routine.come_back: unknown placeholder(s) ['days']" in p for p in problems)
    assert len(problems) == 3


def test_an_unknown_key_is_an_error(kb: Knowledge) -> None:
    data = raw()
    data["imaging"]["maybe"] = {"text": "x", "cite": ["chou2007"]}
    with pytest.raises(KnowledgeError, match=r"imaging\.maybe"):
        handout.check(data, kb)


def test_sentences_are_chosen_by_the_assessment(kb: Knowledge) -> None:
    seed = handout.build(assess({"findings": {"spasms": "present"}}), kb)
    assert seed.urgency == "routine" and seed.name == "Common low back pain"
    assert seed.come_back.text == "If your back is not getting better, come back in 4 weeks."
    assert seed.tests[0].text.startswith("You do not need an X-ray")
    cancer = handout.build(assess({"age": 61, "findings": {"history_of_cancer": "present"}}), kb)
    assert cancer.urgency == "urgent"
    assert any("scan or an X-ray" in line.text for line in cancer.tests)
    assert "when your doctor tells you to" in cancer.come_back.text
    both = assess(
        {"age": 61, "findings": {"history_of_cancer": "present", "saddle_anesthesia": "present"}}
    )
    sheet = handout.build(both, kb)
    assert sheet.urgency == "emergency"
    assert any("cancer" in line.text for line in sheet.also)  # the other suspected red flag
    # Footnotes number the references in order of first use, each one used.
    numbers = {
        int(n) for line in [sheet.now, *sheet.what, *sheet.do] for n in line.cite.split(", ")
    }
    assert numbers <= {n for n, _ in sheet.references}


def syllables(word: str) -> int:
    word = word.lower().strip(".,:;!?()\"'")
    if not word:
        return 0
    groups = re.findall(r"[aeiouy]+", word)
    count = len(groups)
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(1, count)


def grade(text: str) -> float:
    """Flesch-Kincaid grade level; reading age is about the grade plus 5."""
    sentences = max(1, len(re.findall(r"[.!?:](\s|$)", text)))
    words = text.split()
    return (
        0.39 * len(words) / sentences + 11.8 * sum(syllables(w) for w in words) / len(words) - 15.59
    )


def test_the_handout_reads_at_about_age_11_to_12(kb: Knowledge) -> None:
    data = handout.load(kb)
    # Each sentence as its own sentence; the warning signs are list items without a full stop.
    text = " ".join(s.text.rstrip(".") + "." for _, s in data.sentences())
    assert grade(text) <= 7.0, grade(text)
    # And no single part drifts into clinic language.
    for cid, d in data.most_likely.items():
        part = " ".join(s.text for s in [*d.what, *d.do, *d.avoid])
        assert grade(part) <= 8.5, (cid, round(grade(part), 1))
