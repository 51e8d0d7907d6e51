"""The HTML report: the same summary dict as the JSON output, with plots and the chart review."""

from __future__ import annotations

from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined, select_autoescape

from backtriage.audit import svg
from backtriage.audit.codes import CodeLists
from backtriage.audit.red_flags import not_codable

REVIEW_ROWS = 500


def caveats(lists: CodeLists) -> list[str]:
    """What the reader must know about the code lists: each list's own 'verified' note."""
    notes = [f"{c.id}: {c.verified}" for c in sorted(lists.lists.values(), key=lambda c: c.id)]
    return [*notes, f"red_flags: {lists.red_flags.verified}"]


def render_html(summary: dict[str, Any], review: list[dict[str, Any]], lists: CodeLists) -> str:
    env = Environment(autoescape=select_autoescape(default=True), undefined=StrictUndefined)
    source = (
        resources.files("backtriage.audit")
        .joinpath("templates")
        .joinpath("report.html.j2")
        .read_text("utf-8")
    )
    template = env.from_string(source)
    return template.render(
        s=summary,
        clinician_svg=svg.rate_intervals(
            summary["by_clinician"], "clinician_id", summary["rate"], "Rate by clinician"
        ),
        site_svg=svg.rate_intervals(summary["by_site"], "site_id", summary["rate"], "Rate by site"),
        trend_svg=svg.trend(summary["monthly_trend"], "Monthly trend"),
        exclusion_svg=svg.bars(summary["exclusions"], "Exclusions by reason"),
        review=review[:REVIEW_ROWS],
        review_total=len(review),
        look_back=lists.red_flags.look_back_days,
        not_codable=not_codable(lists),
        caveats=caveats(lists),
    )
