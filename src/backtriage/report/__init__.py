"""Renderers: Markdown (the seed-like report), standalone HTML, and JSON.  They present an
assessment; they decide nothing."""

from __future__ import annotations

import json
from importlib import metadata

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from backtriage.assessment import Assessment
from backtriage.knowledge import Knowledge
from backtriage.report.view import build

_ENV = Environment(
    loader=PackageLoader("backtriage.report", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=False,
    lstrip_blocks=False,
    keep_trailing_newline=True,
)


def _version() -> str:
    try:
        return metadata.version("backtriage")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "dev"


def to_markdown(assessment: Assessment, knowledge: Knowledge) -> str:
    view = build(assessment, knowledge)
    text = _ENV.get_template("report.md.j2").render(**view, version=_version())
    return _tidy(text)


def to_html(assessment: Assessment, knowledge: Knowledge) -> str:
    view = build(assessment, knowledge)
    return _ENV.get_template("report.html.j2").render(**view, version=_version())


def to_json(assessment: Assessment, *, indent: int | None = 2) -> str:
    return json.dumps(assessment.to_json_dict(), indent=indent, ensure_ascii=False)


def _tidy(text: str) -> str:
    """Collapse runs of blank lines left by template branches."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() == "" and lines and lines[-1].strip() == "":
            continue
        lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"


__all__ = ["to_html", "to_json", "to_markdown"]
