"""Diagrams and charts drawn as inline SVG on the server: nothing is fetched to draw them.

Every text that comes from data is escaped; coordinates are computed here so
the PDF shows exactly the numbers in ``evidence.json``.
"""

from html import escape

__all__ = ["lineage_svg", "line_chart_svg", "bar_chart_svg"]

INK, MUTED, ACCENT, GRID, TARGET_FILL = "#1f2933", "#616e7c", "#1d4e89", "#d9dee3", "#e6eef7"


def _text(x: float, y: float, value: str, *, size: float = 9, anchor: str = "middle", weight: str = "normal",
          fill: str = INK) -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
        f'fill="{fill}" font-family="DejaVu Sans">{escape(str(value))}</text>'
    )


def _clip(value: str, limit: int) -> str:
    value = str(value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def lineage_svg(nodes: list[dict], edges: list[dict], *, width: float = 680) -> str:
    """A layered DAG: foundation models at the top, the deployed target highlighted, dependants below.

    ``nodes``: {"key", "label", "sublabel", "layer", "is_target"}; ``edges``: {"parent", "child"}.
    """
    if not nodes:
        return ""
    layers: dict[int, list[dict]] = {}
    for node in nodes:
        layers.setdefault(node["layer"], []).append(node)
    order = sorted(layers)
    box_h, gap_y, pad = 40, 34, 10
    max_per_row = max(len(v) for v in layers.values())
    box_w = min(190.0, (width - pad * 2 - 10 * (max_per_row - 1)) / max_per_row)
    chars = max(8, int(box_w / 5.6))
    pos: dict[str, tuple[float, float]] = {}
    for row, layer in enumerate(order):
        members = sorted(layers[layer], key=lambda n: n["label"])
        total = len(members) * box_w + (len(members) - 1) * 10
        x0 = (width - total) / 2
        for i, node in enumerate(members):
            pos[node["key"]] = (x0 + i * (box_w + 10), pad + row * (box_h + gap_y))
    height = pad * 2 + len(order) * box_h + (len(order) - 1) * gap_y
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" class="lineage">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{MUTED}"/></marker></defs>',
    ]
    for edge in edges:
        if edge["parent"] not in pos or edge["child"] not in pos:
            continue
        (px, py), (cx, cy) = pos[edge["parent"]], pos[edge["child"]]
        out.append(
            f'<line x1="{px + box_w / 2:.1f}" y1="{py + box_h:.1f}" x2="{cx + box_w / 2:.1f}" y2="{cy - 2:.1f}" '
            f'stroke="{MUTED}" stroke-width="1" marker-end="url(#arrow)"/>'
        )
    for node in nodes:
        x, y = pos[node["key"]]
        fill, stroke, width_px = (TARGET_FILL, ACCENT, 2) if node.get("is_target") else ("#ffffff", MUTED, 1)
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{box_w:.1f}" height="{box_h}" rx="4" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{width_px}"/>'
        )
        out.append(_text(x + box_w / 2, y + 16, _clip(node["label"], chars), weight="bold"))
        out.append(_text(x + box_w / 2, y + 30, _clip(node.get("sublabel", ""), chars + 4), size=7.5, fill=MUTED))
    out.append("</svg>")
    return "".join(out)


def _nice_range(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if low == high:
        low, high = low - (abs(low) * 0.1 or 1), high + (abs(high) * 0.1 or 1)
    margin = (high - low) * 0.08
    return low - margin, high + margin


def line_chart_svg(
    points: list[tuple[str, float]], *, threshold: float | None = None, label: str = "", width: float = 680,
    height: float = 170,
) -> str:  # fmt: skip
    """Values over time (already in time order) with the threshold as a dashed red line."""
    if not points:
        return ""
    left, right, top, bottom = 52, 12, 14, 30
    values = [v for _, v in points] + ([threshold] if threshold is not None else [])
    low, high = _nice_range(values)
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(points)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (high - low))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" class="chart">']
    for k in range(5):
        value = low + (high - low) * k / 4
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="{GRID}"/>')
        out.append(_text(left - 4, y(value) + 3, f"{value:.3g}", size=7.5, anchor="end", fill=MUTED))
    if threshold is not None:
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
            f'stroke="#b42318" stroke-dasharray="5,3" stroke-width="1.2"/>'
        )
        out.append(_text(width - right, y(threshold) - 3, f"threshold {threshold:g}", size=7.5, anchor="end",
                         fill="#b42318"))  # fmt: skip
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
    out.append(f'<path d="{path}" fill="none" stroke="{ACCENT}" stroke-width="1.4"/>')
    if n <= 60:
        out.extend(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2" fill="{ACCENT}"/>' for i, (_, v) in enumerate(points)
        )
    out.append(_text(left, height - 8, points[0][0], size=7.5, anchor="start", fill=MUTED))
    if n > 1:
        out.append(_text(width - right, height - 8, points[-1][0], size=7.5, anchor="end", fill=MUTED))
    if label:
        out.append(_text(left + plot_w / 2, height - 8, label, size=8, fill=INK))
    out.append("</svg>")
    return "".join(out)


def bar_chart_svg(bars: list[tuple[str, float]], *, width: float = 680, height: float = 170, label: str = "") -> str:
    """Vertical bars (e.g. audit events per day); labels thinned so they never overlap."""
    if not bars:
        return ""
    left, right, top, bottom = 40, 10, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(v for _, v in bars) or 1
    slot = plot_w / len(bars)
    every = max(1, int(len(bars) / max(1, plot_w / 60)))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" class="chart">']
    for k in range(5):
        value = peak * k / 4
        yy = top + plot_h * (1 - k / 4)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{GRID}"/>')
        out.append(_text(left - 4, yy + 3, f"{value:.3g}", size=7.5, anchor="end", fill=MUTED))
    for i, (name, value) in enumerate(bars):
        h = plot_h * value / peak
        out.append(
            f'<rect x="{left + i * slot + slot * 0.15:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{ACCENT}"/>'
        )
        if i % every == 0:
            out.append(_text(left + i * slot + slot / 2, height - 16, _clip(name, 12), size=7, fill=MUTED))
    if label:
        out.append(_text(left + plot_w / 2, height - 3, label, size=8))
    out.append("</svg>")
    return "".join(out)
