"""Small inline SVG plots for the HTML report (no JavaScript, no CDN, no network).

Each function takes rows of the summary dict and returns an SVG string; labels are escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH = 760


def _svg(height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        'font-family="sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _x(rate: float, left: int, width: int) -> float:
    return left + rate * width


def _axis(left: int, width: int, y: int) -> list[str]:
    out = [f'<line x1="{left}" y1="{y}" x2="{left + width}" y2="{y}" stroke="#999"/>']
    for tick in range(0, 11, 2):
        x = _x(tick / 10, left, width)
        out.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="#999"/>')
        out.append(f'<text x="{x:.1f}" y="{y + 15}" text-anchor="middle">{tick * 10}%</text>')
    return out


def rate_intervals(
    rows: list[dict[str, Any]], key: str, overall: float | None, title: str, limit: int = 80
) -> str:
    """Dot-and-whisker plot: one line per group, rate with its Wilson 95% interval."""
    rows = [r for r in rows if r["rate"] is not None][:limit]
    left, width, step = 150, WIDTH - 190, 14
    height = 30 + step * len(rows) + 30
    body: list[str] = []
    if overall is not None:
        x = _x(overall, left, width)
        body.append(
            f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{height - 30}" stroke="#c33" '
            'stroke-dasharray="4 3"/>'
            f'<text x="{x:.1f}" y="14" text-anchor="middle" fill="#c33">overall '
            f"{overall:.1%}</text>"
        )
    for i, row in enumerate(rows):
        y = 30 + i * step
        lo, hi = row["rate_ci95"]
        body.append(
            f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{escape(str(row[key]))} '
            f"(n={row['denominator']})</text>"
            f'<line x1="{_x(lo, left, width):.1f}" y1="{y}" x2="{_x(hi, left, width):.1f}" '
            f'y2="{y}" stroke="#36c"/>'
            f'<circle cx="{_x(row["rate"], left, width):.1f}" cy="{y}" r="3" fill="#036"/>'
        )
    body += _axis(left, width, height - 24)
    return _svg(height, body, title)


def trend(rows: list[dict[str, Any]], title: str) -> str:
    """Monthly rate (line) with its 95% interval (band) and the denominator (bars)."""
    left, width, top, plot_h = 50, WIDTH - 80, 20, 180
    height = top + plot_h + 40
    if not rows:
        return _svg(40, ['<text x="10" y="20">no patients in the denominator</text>'], title)
    step = width / len(rows)
    max_n = max(r["denominator"] for r in rows) or 1
    body: list[str] = []
    band_top, band_bottom, line = [], [], []
    for i, row in enumerate(rows):
        x = left + step * (i + 0.5)
        bar_h = plot_h * 0.35 * row["denominator"] / max_n
        body.append(
            f'<rect x="{x - step * 0.3:.1f}" y="{top + plot_h - bar_h:.1f}" '
            f'width="{step * 0.6:.1f}" height="{bar_h:.1f}" fill="#dde"/>'
            f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
            f"{escape(row['month'][5:])}</text>"
        )
        lo, hi = row["rate_ci95"]
        band_top.append(f"{x:.1f},{top + plot_h * (1 - hi):.1f}")
        band_bottom.append(f"{x:.1f},{top + plot_h * (1 - lo):.1f}")
        line.append(f"{x:.1f},{top + plot_h * (1 - row['rate']):.1f}")
    body.append(
        f'<polygon points="{" ".join(band_top + band_bottom[::-1])}" fill="#36c" '
        'fill-opacity="0.15"/>'
        f'<polyline points="{" ".join(line)}" fill="none" stroke="#036" stroke-width="2"/>'
    )
    for tick in range(0, 11, 2):
        y = top + plot_h * (1 - tick / 10)
        body.append(
            f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" '
            'stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick * 10}%</text>'
        )
    return _svg(height, body, title)


def bars(counts: dict[str, int], title: str) -> str:
    """Horizontal bars of counts by label (the exclusion breakdown)."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    left, width, step = 190, WIDTH - 260, 18
    height = 10 + step * max(1, len(items))
    top = max((v for _, v in items), default=1) or 1
    body: list[str] = []
    for i, (label, value) in enumerate(items):
        y = 10 + i * step
        w = width * value / top
        body.append(
            f'<text x="{left - 6}" y="{y + 10}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{step - 5}" fill="#96b"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 10}">{value}</text>'
        )
    if not items:
        body.append('<text x="10" y="20">no exclusions</text>')
    return _svg(height, body, title)
