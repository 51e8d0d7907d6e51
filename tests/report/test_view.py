"""The renderers' view-model: every statement it hands the Markdown and HTML reports (and the web
page) carries the numbers of the references it rests on."""

from __future__ import annotations

import re
from dataclasses import replace

from backtriage.api import assess
from backtriage.knowledge import Knowledge
from backtriage.report import to_html, to_markdown
from backtriage.report.view import build


def test_the_laboratory_tests_line_cites_the_statements_that_ask_for_them(kb: Knowledge) -> None:
    result = assess({"age": 61, "findings": {"history_of_cancer": "present"}})
    assert result.labs == ["cbc", "esr"]
    view = build(result, kb)
    assert view["labs"] == ["CBC", "ESR"]
    numbers = view["labs_cite"].split(", ")
    assert numbers and all(n.isdigit() for n in numbers)
    cited = {r["ref"].id for r in view["references"] if str(r["n"]) in numbers}
    # The suspected malignancy's action asks for the ESR (Chou 2011; Deyo & Diehl 1988).
    malignancy = next(c for c in result.conditions if c.id == "malignancy")
    assert malignancy.action is not None and set(malignancy.action.citations) <= cited
    markdown = to_markdown(result, kb)
    assert re.search(r"\*\*Laboratory tests now:\*\* CBC, ESR\. \[[\d, ]+\]", markdown)
    html = to_html(result, kb)
    assert re.search(r'Laboratory tests now:</strong> CBC, ESR\. <sup class="cite">\[', html)


def test_no_laboratory_test_cites_nothing(kb: Knowledge) -> None:
    result = assess({"complaint": "Mid-Lower Left Back Pain with Spasms"})
    assert result.labs == []
    view = build(result, kb)
    assert view["labs_cite"] == ""
    assert "**Laboratory tests now:** none.\n" in to_markdown(result, kb)


def test_a_finding_worked_out_from_a_value_says_which_value_in_words(kb: Knowledge) -> None:
    """'Fever: present — from temperature 38.4 °C', not 'from measurements (temperature_c =
    38.4)'; the same in every renderer."""
    result = assess({"age": 75, "measurements": {"temperature_c": 38.4, "esr_mm_h": 45}})
    known = {f["label"]: f["evidence"] for f in build(result, kb)["known"]}
    assert known["Fever"] == ["from temperature 38.4 °C"]
    assert known["ESR 20 mm/h or more"] == ["from ESR 45 mm/h"]
    assert known["Age over 70"] == ["from age 75"]
    for page in (to_markdown(result, kb), to_html(result, kb)):
        assert "temperature_c" not in page and "from age (age" not in page


def test_a_measurement_is_named_as_the_knowledge_base_names_it(kb: Knowledge) -> None:
    """The names and units come from the knowledge base's measurements (the form reads the same
    ones), not from a copy in the report."""
    result = assess({"measurements": {"temperature_c": 38.4, "crp_mg_l": 12}})
    renamed = {
        "temperature_c": kb.measurements["temperature_c"].model_copy(
            update={"label": "Body temperature", "unit": "degrees C"}
        ),
        "crp_mg_l": kb.measurements["crp_mg_l"].model_copy(update={"label": "C-reactive protein"}),
    }
    other = replace(kb, measurements={**kb.measurements, **renamed})
    known = {f["label"]: f["evidence"] for f in build(result, other)["known"]}
    assert known["Fever"] == ["from body temperature 38.4 degrees C"]
    assert known["CRP over 10 mg/L"] == ["from C-reactive protein 12 mg/L"]
