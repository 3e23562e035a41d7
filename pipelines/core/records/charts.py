"""Charts for the run report, drawn as inline SVG: the page needs no script and no network.

Each function takes plain numbers and returns one ``<svg>`` element; every text in it is
escaped. The shapes are the few a run report needs: a timeline of bars placed in time,
horizontal bars, box plots of task durations and small line charts of a trend.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "Box", "timeline", "bars", "boxes", "trend", "number"]

WIDTH = 760
LABEL_W = 170
ROW_H = 22
PALETTE = {"phase": "#8da0cb", "stage": "#66c2a5", "salted": "#fc8d62", "unsalted": "#8da0cb",
           "bad": "#e78ac3", "line": "#377eb8", "fail": "#d62728"}


def number(value: float | int | None) -> str:
    """A number as people read it: thousands separated, at most three significant decimals."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    magnitude = abs(value)
    digits = 1 if magnitude >= 100 else 2 if magnitude >= 1 else 3
    return f"{value:,.{digits}f}"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _svg(height: int, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" '
            f'height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" '
            f'font-size="12"><title>{_esc(title)}</title>{"".join(body)}</svg>')


def _label(y: float, text: str) -> str:
    shown = text if len(text) <= 24 else text[:23] + "…"
    return (f'<text x="{LABEL_W - 6}" y="{y + ROW_H * 0.65:.1f}" text-anchor="end">'
            f'{_esc(shown)}</text>')


def _axis(y: float, scale: float, top: float, unit: str) -> list[str]:
    """A horizontal axis under the rows, with five ticks."""
    out = [f'<line x1="{LABEL_W}" y1="{y}" x2="{LABEL_W + top * scale:.1f}" y2="{y}" '
           'stroke="#999"/>']
    for i in range(5):
        value = top * i / 4
        x = LABEL_W + value * scale
        out.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="#999"/>')
        out.append(f'<text x="{x:.1f}" y="{y + 16}" text-anchor="middle" fill="#555">'
                   f'{_esc(number(value))}{_esc(unit)}</text>')
    return out


@dataclass(frozen=True)
class Bar:
    label: str
    start: float
    length: float
    kind: str = "stage"  # a PALETTE key
    note: str = ""


def timeline(items: Sequence[Bar], *, total: float, title: str = "timeline") -> str:
    """Bars placed in time (seconds from the run's start), one row each."""
    top = max([total, *(b.start + b.length for b in items)]) or 1.0
    scale = (WIDTH - LABEL_W - 70) / top  # room for the last bar's figure
    body: list[str] = []
    for i, bar in enumerate(items):
        y = 4 + i * ROW_H
        body.append(_label(y, bar.label))
        width = max(bar.length * scale, 1.5)
        body.append(f'<rect x="{LABEL_W + bar.start * scale:.1f}" y="{y + 3}" '
                    f'width="{width:.1f}" height="{ROW_H - 6}" fill="{PALETTE[bar.kind]}">'
                    f'<title>{_esc(bar.label)}: {number(bar.length)} s from '
                    f'{number(bar.start)} s</title></rect>')
        body.append(f'<text x="{LABEL_W + (bar.start + bar.length) * scale + 4:.1f}" '
                    f'y="{y + ROW_H * 0.65:.1f}" fill="#333">{_esc(number(bar.length))} s'
                    f'{_esc(" " + bar.note if bar.note else "")}</text>')
    axis_y = 8 + len(items) * ROW_H
    body += _axis(axis_y, scale, top, " s")
    return _svg(axis_y + 24, body, title)


def bars(items: Sequence[Bar], *, unit: str = "", title: str = "bars") -> str:
    """Horizontal bars from zero, one row each; ``start`` is ignored."""
    top = max([b.length for b in items] + [1.0])
    scale = (WIDTH - LABEL_W - 90) / top
    body: list[str] = []
    for i, bar in enumerate(items):
        y = 4 + i * ROW_H
        body.append(_label(y, bar.label))
        body.append(f'<rect x="{LABEL_W}" y="{y + 3}" width="{max(bar.length * scale, 1):.1f}"'
                    f' height="{ROW_H - 6}" fill="{PALETTE[bar.kind]}"/>')
        body.append(f'<text x="{LABEL_W + bar.length * scale + 4:.1f}" '
                    f'y="{y + ROW_H * 0.65:.1f}" fill="#333">{_esc(number(bar.length))}{unit}'
                    f'{_esc(" " + bar.note if bar.note else "")}</text>')
    return _svg(8 + len(items) * ROW_H, body, title)


@dataclass(frozen=True)
class Box:
    label: str
    points: Sequence[float]  # min, p25, p50, p75, p90, max
    kind: str = "unsalted"
    note: str = ""


def boxes(items: Sequence[Box], *, unit: str = " ms", title: str = "boxes") -> str:
    """Box plots on one shared axis: whiskers from min to max, a box from p25 to p75, the
    median as a bar and p90 as a tick; a long right whisker is a straggler."""
    top = max([max(b.points) for b in items if b.points] + [1.0])
    scale = (WIDTH - LABEL_W - 20) / top
    body: list[str] = []
    row = ROW_H + 16
    for i, box in enumerate(items):
        y = 4 + i * row
        body.append(_label(y + 8, box.label))
        if not box.points:
            continue
        lo, p25, p50, p75, p90, hi = (LABEL_W + v * scale for v in box.points)
        mid = y + row / 2 + 4
        colour = PALETTE[box.kind]
        body += [
            f'<line x1="{lo:.1f}" y1="{mid}" x2="{hi:.1f}" y2="{mid}" stroke="#555"/>',
            f'<line x1="{hi:.1f}" y1="{mid - 6}" x2="{hi:.1f}" y2="{mid + 6}" stroke="#555"/>',
            f'<rect x="{p25:.1f}" y="{mid - 8}" width="{max(p75 - p25, 1.5):.1f}" height="16" '
            f'fill="{colour}" stroke="#555"><title>{_esc(box.label)}: median '
            f'{number(box.points[2])}{unit}, max {number(box.points[5])}{unit}</title></rect>',
            f'<line x1="{p50:.1f}" y1="{mid - 8}" x2="{p50:.1f}" y2="{mid + 8}" stroke="#000" '
            'stroke-width="2"/>',
            f'<line x1="{p90:.1f}" y1="{mid - 4}" x2="{p90:.1f}" y2="{mid + 4}" stroke="#000"/>',
        ]
        if box.note:
            body.append(f'<text x="{LABEL_W}" y="{mid - 11}" fill="#333">{_esc(box.note)}'
                        '</text>')
    axis_y = 8 + len(items) * row
    body += _axis(axis_y, scale, top, unit)
    return _svg(axis_y + 24, body, title)


def trend(values: Sequence[float | None], *, labels: Sequence[str], unit: str = "",
          title: str = "trend", failed: Sequence[bool] = ()) -> str:
    """A small line chart of one measure over runs, oldest first; failed runs are red dots,
    and a missing value breaks the line."""
    width, height, pad = 360, 120, 30
    known = [v for v in values if v is not None]
    highest = max(known + [0.0])
    top = highest or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    body: list[str] = [f'<text x="{pad}" y="14" font-weight="bold">{_esc(title)}</text>',
                       f'<text x="{width - 4}" y="14" text-anchor="end" fill="#555">max '
                       f'{_esc(number(highest))}{_esc(unit)}</text>',
                       f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" '
                       f'y2="{height - pad}" stroke="#999"/>']
    segment: list[str] = []
    for i, value in enumerate(values):
        if value is None:
            if len(segment) > 1:
                body.append(f'<polyline fill="none" stroke="{PALETTE["line"]}" '
                            f'stroke-width="2" points="{" ".join(segment)}"/>')
            segment = []
            continue
        x = pad + i * step
        y = height - pad - (value / top) * (height - 2 * pad - 10)
        segment.append(f"{x:.1f},{y:.1f}")
        bad = i < len(failed) and failed[i]
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{4 if bad else 2.5}" '
                    f'fill="{PALETTE["fail"] if bad else PALETTE["line"]}"><title>'
                    f'{_esc(labels[i] if i < len(labels) else "")}: {_esc(number(value))}'
                    f'{_esc(unit)}</title></circle>')
    if len(segment) > 1:
        body.append(f'<polyline fill="none" stroke="{PALETTE["line"]}" stroke-width="2" '
                    f'points="{" ".join(segment)}"/>')
    if labels:
        body.append(f'<text x="{pad}" y="{height - 10}" fill="#555">{_esc(labels[0])}</text>')
        body.append(f'<text x="{width - pad}" y="{height - 10}" text-anchor="end" '
                    f'fill="#555">{_esc(labels[-1])}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
            f'font-size="11"><title>{_esc(title)}</title>{"".join(body)}</svg>')
