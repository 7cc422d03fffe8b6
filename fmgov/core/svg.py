"""Server-side SVG for the web pages: the lineage graph and metric trend charts.

Drawn as markup by the server so the pages need no JavaScript and the same
picture appears in every browser. Every piece of user text is XML-escaped;
the result is marked safe only after that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from django.utils.safestring import SafeString, mark_safe

__all__ = ["LineageNode", "lineage_svg", "TrendPoint", "trend_svg"]

NODE_W, NODE_H, COL_GAP, ROW_GAP, PAD = 190, 46, 70, 18, 12


@dataclass
class LineageNode:
    """A node of the lineage graph. ``key`` is unique, e.g. ``("model", 3)``; ``parents`` are keys."""

    key: tuple[str, int]
    label: str
    sublabel: str
    href: str
    current: bool = False
    parents: list[tuple[str, int]] = field(default_factory=list)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _layers(nodes: list[LineageNode]) -> dict[tuple[str, int], int]:
    """Longest distance from a root inside the drawn set, so every edge points right."""
    keys = {n.key for n in nodes}
    parents = {n.key: [p for p in n.parents if p in keys] for n in nodes}
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


def lineage_svg(nodes: list[LineageNode], *, title: str) -> SafeString:
    """Ancestors left, descendants right, edges from parent to child, every other node a link."""
    if not nodes:
        return mark_safe("")  # noqa: S308 -- constant
    layer_of = _layers(nodes)
    layers = sorted(set(layer_of.values()))
    column = {layer: i for i, layer in enumerate(layers)}
    by_layer: dict[int, list[LineageNode]] = {}
    for node in sorted(nodes, key=lambda n: (layer_of[n.key], n.label.lower(), n.key)):
        by_layer.setdefault(layer_of[node.key], []).append(node)
    rows = max(len(v) for v in by_layer.values())
    width = PAD * 2 + len(layers) * NODE_W + (len(layers) - 1) * COL_GAP
    height = PAD * 2 + rows * NODE_H + (rows - 1) * ROW_GAP
    pos: dict[tuple[str, int], tuple[int, int]] = {}
    for layer, members in by_layer.items():
        offset = (rows - len(members)) * (NODE_H + ROW_GAP) // 2
        for i, node in enumerate(members):
            x = PAD + column[layer] * (NODE_W + COL_GAP)
            y = PAD + offset + i * (NODE_H + ROW_GAP)
            pos[node.key] = (x, y)

    out = [
        f'<svg class="lineage" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="group" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>',
    ]
    for node in nodes:
        for parent in node.parents:
            if parent not in pos:
                continue
            px, py = pos[parent]
            cx, cy = pos[node.key]
            x1, y1, x2, y2 = px + NODE_W, py + NODE_H // 2, cx, cy + NODE_H // 2
            mid = (x1 + x2) // 2
            out.append(
                f'<path class="edge" d="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2 - 2},{y2}" '
                'fill="none" stroke="#57606a" stroke-width="1.5" marker-end="url(#arrow)"/>'
            )
    for node in nodes:
        x, y = pos[node.key]
        kind = "model" if node.key[0] == "model" else "adaptation"
        classes = f"node node-{kind}" + (" current" if node.current else "")
        fill = "#0b5cad" if node.current else ("#e8f0fa" if kind == "model" else "#fff")
        ink = "#fff" if node.current else "#1b1f24"
        sub_ink = "#fff" if node.current else "#57606a"
        label = f"{node.label} ({node.sublabel})"
        body = (
            f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="7" fill="{fill}" '
            f'stroke="#0b5cad" stroke-width="{2.5 if node.current else 1.2}"/>'
            f'<text x="{x + 10}" y="{y + 19}" font-size="13" font-weight="600" fill="{ink}">'
            f"{escape(_clip(node.label, 24))}</text>"
            f'<text x="{x + 10}" y="{y + 36}" font-size="11" fill="{sub_ink}">{escape(_clip(node.sublabel, 30))}</text>'
        )
        if node.current:
            out.append(f'<g class="{classes}" aria-current="page"><title>{escape(label)}</title>{body}</g>')
        else:
            out.append(
                f'<a class="{classes}" href={quoteattr(node.href)} aria-label={quoteattr(label)}>'
                f"<title>{escape(label)}</title>{body}</a>"
            )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 -- every interpolated text is escaped above


@dataclass
class TrendPoint:
    time: dt.datetime
    value: float
    passed: bool | None
    href: str = ""


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


def trend_svg(
    points: list[TrendPoint],
    *,
    title: str,
    threshold: float | None = None,
    op: str | None = None,
    width: int = 560,
    height: int = 200,
) -> SafeString:
    """A line of a metric over time, the threshold as a dashed line, failing points in red."""
    if not points:
        return mark_safe("")  # noqa: S308 -- constant
    points = sorted(points, key=lambda p: p.time)
    left, right, top, bottom = 56, 16, 16, 34
    values = [p.value for p in points] + ([threshold] if threshold is not None else [])
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
        desc += f"; threshold {op or ''} {_fmt(threshold)}".replace("  ", " ")
    failing = sum(1 for p in points if p.passed is False)
    desc += f"; {failing} failing."
    out = [
        f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label={quoteattr(title + ": " + desc)}>',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#f6f8fa" stroke="#d0d7de"/>',
    ]
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        y = sy(v)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7eb"/>')
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#57606a">{_fmt(v)}</text>'
        )
    out.append(
        f'<text x="{left}" y="{height - 10}" font-size="11" fill="#57606a">{points[0].time:%Y-%m-%d}</text>'
        f'<text x="{left + plot_w}" y="{height - 10}" font-size="11" text-anchor="end" fill="#57606a">'
        f"{points[-1].time:%Y-%m-%d}</text>"
    )
    if threshold is not None:
        y = sy(threshold)
        out.append(
            f'<line class="threshold" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#b42318" stroke-width="1.5" stroke-dasharray="6 4"/>'
            f'<text x="{left + plot_w - 4}" y="{y - 5:.1f}" font-size="11" text-anchor="end" fill="#b42318">'
            f"threshold {escape(op or '')} {_fmt(threshold)}</text>"
        )
    coords = " ".join(f"{sx(p.time.timestamp()):.1f},{sy(p.value):.1f}" for p in points)
    out.append(f'<polyline points="{coords}" fill="none" stroke="#0b5cad" stroke-width="2"/>')
    for p in points:
        x, y = sx(p.time.timestamp()), sy(p.value)
        colour = "#b42318" if p.passed is False else "#1a7f37" if p.passed else "#57606a"
        label = f"{p.time:%Y-%m-%d %H:%M}: {_fmt(p.value)}" + (
            " (failed)" if p.passed is False else " (passed)" if p.passed else ""
        )
        dot = (
            f'<circle class="point{" fail" if p.passed is False else ""}" cx="{x:.1f}" cy="{y:.1f}" r="4.5" '
            f'fill="{colour}"><title>{escape(label)}</title></circle>'
        )
        out.append(f"<a href={quoteattr(p.href)}>{dot}</a>" if p.href else dot)
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 -- every interpolated text is escaped above
