"""Server-side SVG for pages and PDFs alike: the lineage DAG, metric trends, and bar charts.

One layout and one set of drawings serve both: pages draw the DAG left to
right with links, the PDF top to bottom without them (WeasyPrint fetches
nothing, and the picture must show exactly the numbers in evidence.json).
Drawn as markup on the server, so nothing is fetched and no JavaScript runs.
Every piece of data text is XML-escaped; the result is marked safe only after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from django.utils.safestring import SafeString, mark_safe

__all__ = ["DagNode", "dag_layers", "lineage_svg", "TrendPoint", "trend_svg", "bar_chart_svg", "format_value"]

INK, MUTED, ACCENT, GRID, TARGET_FILL, FAIL, PASS = (
    "#1b1f24",
    "#57606a",
    "#0b5cad",
    "#e3e7eb",
    "#e8f0fa",
    "#b42318",
    "#1a7f37",
)
FONT = 'font-family="DejaVu Sans, sans-serif"'


def _clip(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(x: float, y: float, value: str, *, size: float, anchor: str = "start", weight: str = "normal",
          fill: str = INK) -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
        f'fill="{fill}" {FONT}>{escape(str(value))}</text>'
    )


def format_value(value: float) -> str:
    """Axis and label numbers: three significant figures, no trailing zeros."""
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


# -- the lineage DAG ---------------------------------------------------------------------------------------------


@dataclass
class DagNode:
    """A node of the lineage graph. ``key`` is unique; ``parents`` are keys (those not drawn are ignored)."""

    key: Hashable
    label: str
    sublabel: str = ""
    href: str = ""
    current: bool = False
    parents: list[Hashable] = field(default_factory=list)


def dag_layers(nodes: list[DagNode]) -> dict[Hashable, int]:
    """Each node's longest distance from a root inside the drawn set, so every edge points one way."""
    keys = {n.key for n in nodes}
    parents = {n.key: [p for p in n.parents if p in keys and p != n.key] for n in nodes}
    layer = dict.fromkeys(keys, 0)
    for _ in range(len(keys)):  # relaxation; a DAG settles in at most len(keys) rounds
        changed = False
        for key, ps in parents.items():
            want = max((layer[p] + 1 for p in ps), default=0)
            if want > layer[key]:
                layer[key], changed = want, True
        if not changed:
            break
    return layer


def _layout(nodes: list[DagNode]) -> tuple[list[list[DagNode]], int]:
    """Nodes grouped by layer (in order), each layer sorted by label; and the widest layer's size."""
    layer_of = dag_layers(nodes)
    by_layer: dict[int, list[DagNode]] = {}
    for node in sorted(nodes, key=lambda n: (layer_of[n.key], n.label.lower(), str(n.key))):
        by_layer.setdefault(layer_of[node.key], []).append(node)
    groups = [by_layer[layer] for layer in sorted(by_layer)]
    return groups, max(len(g) for g in groups)


@dataclass(frozen=True)
class _Frame:
    """Where each node sits, and the box size, for one orientation."""

    pos: dict[Hashable, tuple[float, float]]
    box_w: float
    box_h: float
    width: float
    height: float
    horizontal: bool


def _frame(nodes: list[DagNode], orientation: str, max_width: float) -> _Frame:
    groups, widest = _layout(nodes)
    pad, gap = 12, 18
    pos: dict[Hashable, tuple[float, float]] = {}
    if orientation == "horizontal":
        box_w, box_h = 190.0, 46.0
        width = pad * 2 + len(groups) * box_w + (len(groups) - 1) * 70
        height = pad * 2 + widest * box_h + (widest - 1) * gap
        for index, members in enumerate(groups):
            offset = (widest - len(members)) * (box_h + gap) / 2
            for i, node in enumerate(members):
                pos[node.key] = (pad + index * (box_w + 70), pad + offset + i * (box_h + gap))
        return _Frame(pos, box_w, box_h, width, height, horizontal=True)
    box_w, box_h = min(190.0, (max_width - pad * 2 - gap * (widest - 1)) / widest), 40.0
    height = pad * 2 + len(groups) * box_h + (len(groups) - 1) * 34
    for index, members in enumerate(groups):
        x0 = (max_width - (len(members) * box_w + (len(members) - 1) * gap)) / 2
        for i, node in enumerate(members):
            pos[node.key] = (x0 + i * (box_w + gap), pad + index * (box_h + 34))
    return _Frame(pos, box_w, box_h, max_width, height, horizontal=False)


def _edge(frame: _Frame, parent: Hashable, child: Hashable) -> str:
    (px, py), (cx, cy) = frame.pos[parent], frame.pos[child]
    if frame.horizontal:
        x1, y1, x2, y2 = px + frame.box_w, py + frame.box_h / 2, cx - 2, cy + frame.box_h / 2
        mid = (x1 + x2) / 2
        d = f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    else:
        d = f"M{px + frame.box_w / 2:.1f},{py + frame.box_h:.1f} L{cx + frame.box_w / 2:.1f},{cy - 2:.1f}"
    return f'<path class="edge" d="{d}" fill="none" stroke="{MUTED}" stroke-width="1.5" marker-end="url(#arrow)"/>'


def _node(frame: _Frame, node: DagNode) -> str:
    x, y = frame.pos[node.key]
    is_model = isinstance(node.key, tuple) and node.key[0] == "model"
    classes = f"node node-{'model' if is_model else 'adaptation'}" + (" current" if node.current else "")
    inverted = node.current and frame.horizontal  # pages fill the current node; print keeps it light
    fill = ACCENT if inverted else TARGET_FILL if node.current else "#fff"
    ink, sub_ink = ("#fff", "#fff") if inverted else (INK, MUTED)
    big, small, chars = (13, 11, 24) if frame.horizontal else (9, 7.5, max(8, int(frame.box_w / 5.6)))
    label = f"{node.label} ({node.sublabel})" if node.sublabel else node.label
    body = (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{frame.box_w:.1f}" height="{frame.box_h:.0f}" rx="6" fill="{fill}" '
        f'stroke="{ACCENT}" stroke-width="{2.5 if node.current else 1.2}"/>'
        + _text(x + 10, y + frame.box_h * 0.41, _clip(node.label, chars), size=big, weight="600", fill=ink)
        + _text(x + 10, y + frame.box_h * 0.78, _clip(node.sublabel, chars + 6), size=small, fill=sub_ink)
    )
    if node.current or not node.href:
        current = ' aria-current="page"' if node.current else ""
        return f'<g class="{classes}"{current}><title>{escape(label)}</title>{body}</g>'
    return (
        f'<a class="{classes}" href={quoteattr(node.href)} aria-label={quoteattr(label)}>'
        f"<title>{escape(label)}</title>{body}</a>"
    )


def lineage_svg(
    nodes: list[DagNode],
    *,
    title: str,
    orientation: Literal["horizontal", "vertical"] = "horizontal",
    max_width: float = 680,
) -> SafeString:
    """Ancestors first (left, or top), the current node highlighted; nodes with an ``href`` are links.

    Pages draw horizontally with fixed boxes; the PDF draws vertically and shrinks
    the boxes to fit ``max_width``.
    """
    if not nodes:
        return mark_safe("")
    frame = _frame(nodes, orientation, max_width)
    out = [
        f'<svg class="lineage" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width:.0f} {frame.height:.0f}" '
        f'width="{frame.width:.0f}" height="{frame.height:.0f}" role="group" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{MUTED}"/></marker></defs>',
    ]
    out += [
        _edge(frame, parent, node.key)
        for node in nodes
        for parent in node.parents
        if parent in frame.pos and parent != node.key
    ]
    out += [_node(frame, node) for node in nodes]
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 -- every interpolated text is escaped above


# -- charts --------------------------------------------------------------------------------------------------------


@dataclass
class TrendPoint:
    time: dt.datetime
    value: float
    passed: bool | None = None
    href: str = ""
    ci_low: float | None = None  # the 95% interval, drawn as a band around the line
    ci_high: float | None = None

    @property
    def has_interval(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None


def trend_svg(
    points: list[TrendPoint],
    *,
    title: str,
    threshold: float | None = None,
    op: str | None = None,
    width: int = 560,
    height: int = 200,
) -> SafeString:
    """A metric over time, its 95% interval as a band, the threshold as a dashed line, failing points in red
    (linked where ``href`` is set)."""
    points = sorted((p for p in points if p.value is not None), key=lambda p: p.time)  # insufficient: not drawn
    if not points:
        return mark_safe("")
    left, right, top, bottom = 56, 16, 16, 34
    bounds = [b for p in points if p.has_interval for b in (p.ci_low, p.ci_high)]
    values = [p.value for p in points] + bounds + ([threshold] if threshold is not None else [])
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - (abs(lo) or 1) * 0.1, hi + (abs(hi) or 1) * 0.1
    span = hi - lo
    lo, hi = lo - span * 0.08, hi + span * 0.08
    t0, t1 = points[0].time.timestamp(), points[-1].time.timestamp()
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(t: float) -> float:
        return left + (plot_w / 2 if t1 == t0 else (t - t0) / (t1 - t0) * plot_w)

    def sy(v: float) -> float:
        return top + (hi - v) / (hi - lo) * plot_h

    desc = f"{len(points)} results from {points[0].time:%Y-%m-%d} to {points[-1].time:%Y-%m-%d}"
    if threshold is not None:
        desc += f"; threshold {op or ''} {format_value(threshold)}".replace("  ", " ")
    failing = sum(1 for p in points if p.passed is False)
    desc += f"; {failing} failing"
    desc += "; shaded band: 95% interval." if bounds else "."
    out = [
        f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label={quoteattr(title + ": " + desc)}>',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#f6f8fa" stroke="#d0d7de"/>',
    ]
    for i in range(5):
        y = sy(lo + (hi - lo) * i / 4)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(_text(left - 6, y + 4, format_value(lo + (hi - lo) * i / 4), size=11, anchor="end", fill=MUTED))
    out.append(_text(left, height - 10, f"{points[0].time:%Y-%m-%d}", size=11, fill=MUTED))
    out.append(_text(left + plot_w, height - 10, f"{points[-1].time:%Y-%m-%d}", size=11, anchor="end", fill=MUTED))
    if threshold is not None:
        y = sy(threshold)
        out.append(
            f'<line class="threshold" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{FAIL}" stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
        label = f"threshold {op} {format_value(threshold)}" if op else f"threshold {format_value(threshold)}"
        out.append(_text(left + plot_w - 4, y - 5, label, size=11, anchor="end", fill=FAIL))
    out.append(_trend_band(points, sx, sy))
    coords = " ".join(f"{sx(p.time.timestamp()):.1f},{sy(p.value):.1f}" for p in points)
    out.append(f'<polyline points="{coords}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    for p in points if len(points) <= 120 else []:
        x, y = sx(p.time.timestamp()), sy(p.value)
        colour = FAIL if p.passed is False else PASS if p.passed else MUTED
        verdict = " (failed)" if p.passed is False else " (passed)" if p.passed else ""
        interval = f" [{format_value(p.ci_low)}, {format_value(p.ci_high)}]" if p.has_interval else ""
        label = f"{p.time:%Y-%m-%d %H:%M}: {format_value(p.value)}{interval}{verdict}"
        dot = (
            f'<circle class="point{" fail" if p.passed is False else ""}" cx="{x:.1f}" cy="{y:.1f}" r="4.5" '
            f'fill="{colour}"><title>{escape(label)}</title></circle>'
        )
        out.append(f"<a href={quoteattr(p.href)}>{dot}</a>" if p.href else dot)
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 -- every interpolated text is escaped above


def _trend_band(points: list[TrendPoint], sx: Callable[[float], float], sy: Callable[[float], float]) -> str:
    """The 95% interval as a shaded polygon through the points that have one (upper edge out, lower edge back)."""
    banded = [p for p in points if p.has_interval]
    if not banded:
        return ""
    if len(banded) == 1:  # one interval: a whisker, since a band needs two points
        p = banded[0]
        x = sx(p.time.timestamp())
        return (
            f'<line class="interval" x1="{x:.1f}" x2="{x:.1f}" y1="{sy(p.ci_low):.1f}" y2="{sy(p.ci_high):.1f}" '
            f'stroke="{ACCENT}" stroke-opacity="0.35" stroke-width="8"/>'
        )
    upper = [f"{sx(p.time.timestamp()):.1f},{sy(p.ci_high):.1f}" for p in banded]
    lower = [f"{sx(p.time.timestamp()):.1f},{sy(p.ci_low):.1f}" for p in reversed(banded)]
    return f'<polygon class="interval" points="{" ".join(upper + lower)}" fill="{ACCENT}" fill-opacity="0.15"/>'


def bar_chart_svg(bars: list[tuple[str, float]], *, width: float = 680, height: float = 170, label: str = "") -> str:
    """Vertical bars (e.g. audit events per day); labels thinned so they never overlap."""
    if not bars:
        return mark_safe("")
    left, right, top, bottom = 40, 10, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(v for _, v in bars) or 1
    slot = plot_w / len(bars)
    every = max(1, int(len(bars) / max(1, plot_w / 60)))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" class="chart">']
    for k in range(5):
        yy = top + plot_h * (1 - k / 4)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{GRID}"/>')
        out.append(_text(left - 4, yy + 3, f"{peak * k / 4:.3g}", size=7.5, anchor="end", fill=MUTED))
    for i, (name, value) in enumerate(bars):
        h = plot_h * value / peak
        out.append(
            f'<rect x="{left + i * slot + slot * 0.15:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{ACCENT}"/>'
        )
        if i % every == 0:
            out.append(_text(left + i * slot + slot / 2, height - 16, _clip(name, 12), size=7, anchor="middle"))
    if label:
        out.append(_text(left + plot_w / 2, height - 3, label, size=8, anchor="middle"))
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 -- every interpolated text is escaped above
