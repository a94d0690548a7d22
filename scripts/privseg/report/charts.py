"""The report's inline SVG charts: their geometry is computed here, their markup is in
templates/charts.svg.j2 (no library, no script).

Every chart carries its figures as text and tooltips, so the reader never has to measure a bar.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from privseg.report.environment import environment
from privseg.report.values import number

CHART_WIDTH = 900
LABEL_CHARACTERS = 30


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: its label, the value that sets its length, and what it says."""

    label: str
    value: float
    text: str
    tooltip: str
    css: str = ""


def _macro(name: str, **arguments: Any) -> Markup:
    return Markup(getattr(environment().get_template("charts.svg.j2").module, name)(**arguments))


def no_data_svg(chart_id: str, title: str, message: str = "no data") -> Markup:
    return _macro(
        "no_data",
        chart_id=chart_id,
        title=title,
        message=message,
        width=CHART_WIDTH,
        middle=CHART_WIDTH / 2,
    )


def hbar_chart(
    chart_id: str, title: str, bars: list[Bar], scale_max: float | None = None
) -> Markup:
    """Horizontal bars scaled to the largest value (or to scale_max, e.g. 1.0 for shares).

    A non-zero value gets at least 2 px so that a tiny bar beside a huge one still shows."""
    if not bars:
        return no_data_svg(chart_id, title)
    row, bar_height, top, bottom = 24, 15, 8, 8
    longest = max(len(bar.label) for bar in bars)
    label_width = min(220, max(80, 7 * min(longest, LABEL_CHARACTERS) + 12))
    text_width = 200
    plot_width = CHART_WIDTH - label_width - text_width
    top_value = scale_max if scale_max is not None else max(bar.value for bar in bars)
    top_value = top_value if top_value > 0 else 1.0
    height = top + row * len(bars) + bottom
    x0 = label_width
    rows = []
    for index, bar in enumerate(bars):
        y = top + index * row
        length = max(0.0, min(1.0, bar.value / top_value)) * plot_width
        if bar.value > 0:
            length = max(length, 2.0)
        short = (
            bar.label
            if len(bar.label) <= LABEL_CHARACTERS
            else bar.label[: LABEL_CHARACTERS - 1] + "…"
        )
        rows.append(
            {
                "bar": bar,
                "short_label": short,
                "css": f"bar {bar.css}".strip(),
                "y": y,
                "text_y": y + bar_height - 3,
                "length": f"{length:.1f}",
                "value_x": f"{x0 + length + 6:.1f}",
            }
        )
    return _macro(
        "hbar",
        chart_id=chart_id,
        title=title,
        rows=rows,
        width=CHART_WIDTH,
        height=height,
        x0=x0,
        plot_width=plot_width,
        bar_height=bar_height,
        track=scale_max is not None,
        axis_top=top - 3,
        axis_bottom=height - bottom + 3,
    )


def _geometric_edges(low: int, high: int, intervals: int) -> list[int]:
    """Integer edges from low to high (both included), roughly evenly spaced on a log scale."""
    if high <= low:
        return [low]
    intervals = max(1, intervals)
    raw = [round(low * (high / low) ** (i / intervals)) for i in range(intervals + 1)]
    edges: list[int] = []
    for edge in [low, *raw, high]:
        if low <= edge <= high and (not edges or edge > edges[-1]):
            edges.append(edge)
    return edges


def class_size_bins(max_size: int, k: int, max_bins: int = 50) -> list[tuple[int, int]]:
    """Half-open integer bins [low, high) covering sizes 1..max(max_size, k), with k an edge.

    Up to max_bins sizes: one bin per size. Beyond that the bins grow geometrically (a log
    axis), with their own few bins below k, so one class of 5,000 rows does not squash the
    classes of 10 into a single pixel, and no bin straddles k."""
    k = max(1, k)
    end = max(max_size, k) + 1  # exclusive
    if end - 1 <= max_bins:
        return [(size, size + 1) for size in range(1, end)]
    below = list(range(1, k + 1)) if k <= 9 else _geometric_edges(1, k, 8)
    above = _geometric_edges(k, end, max(4, max_bins - (len(below) - 1)))
    edges = below + above[1:]
    return list(zip(edges[:-1], edges[1:], strict=True))


def histogram_chart(
    chart_id: str, title: str, histogram: list[dict], k: int | None, unit: str = "classes"
) -> Markup:
    """Vertical bars: how many classes (or cells) have each size, with a dashed line at k."""
    counts: dict[int, int] = {}
    for entry in histogram:
        size, classes = number(entry.get("size")), number(entry.get("classes"))
        if size is None or classes is None or size < 1 or classes <= 0:
            continue
        counts[int(size)] = counts.get(int(size), 0) + int(classes)
    if not counts:
        return no_data_svg(chart_id, title)
    threshold = k if isinstance(k, int) and k >= 1 else None
    bins = class_size_bins(max(counts), threshold or 1)
    lows = [low for low, _ in bins]
    binned = [0] * len(bins)
    for size, classes in counts.items():
        binned[bisect.bisect_right(lows, size) - 1] += classes

    left, right, top, bottom = 56, 16, 22, 46
    height = 240
    plot_width = CHART_WIDTH - left - right
    plot_height = height - top - bottom
    baseline = top + plot_height
    slot = plot_width / len(bins)
    gap = min(2.0, slot * 0.15)
    y_max = max(binned)
    ticks = []
    for tick in sorted({0, y_max // 2, y_max}):
        y = top + plot_height - tick / y_max * plot_height
        ticks.append({"y": f"{y:.1f}", "text_y": f"{y + 4:.1f}", "label": f"{tick:,}"})
    label_every = max(1, math.ceil(len(bins) / 16))
    per_size = all(high == low + 1 for low, high in bins)
    slots = []  # per bin: its bar (if any class falls in it) and its axis label (if any)
    for index, ((low, high), classes) in enumerate(zip(bins, binned, strict=True)):
        x = left + index * slot
        sizes = f"size {low:,}" if high == low + 1 else f"sizes {low:,}–{high - 1:,}"
        bar = None
        if classes:
            bar_height = max(2.0, classes / y_max * plot_height)
            bar = {
                "css": "bar below-k" if threshold and low < threshold else "bar",
                "x": f"{x + gap / 2:.1f}",
                "y": f"{baseline - bar_height:.1f}",
                "width": f"{slot - gap:.1f}",
                "height": f"{bar_height:.1f}",
                "title": f"{sizes}: {classes:,} {unit}",
            }
        # One bin per size: label the bar. Wider (log-spaced) bins: label their edges, k always.
        label_x = x + slot / 2 if per_size else x
        crowds_end = not per_size and left + plot_width - label_x < 40
        label = None
        if (index % label_every == 0 and not crowds_end) or (not per_size and low == threshold):
            label = {"x": f"{label_x:.1f}", "text": f"{low:,}"}
        slots.append({"bar": bar, "label": label})
    end_label = None  # log-spaced bins: the last edge, at the end of the axis
    if not per_size:
        end_label = {"x": f"{left + plot_width:.1f}", "text": f"{bins[-1][1] - 1:,}"}
    k_line = None
    if threshold:
        k_index = next((i for i, low in enumerate(lows) if low >= threshold), len(bins))
        x_k = left + k_index * slot
        k_line = {"x": f"{x_k:.1f}", "label_x": f"{x_k + 4:.1f}", "k": threshold}
    return _macro(
        "histogram",
        chart_id=chart_id,
        title=title,
        width=CHART_WIDTH,
        height=height,
        left=left,
        top=top,
        plot_right=left + plot_width,
        baseline=baseline,
        ticks=ticks,
        slots=slots,
        end_label=end_label,
        axis_title_x=left + plot_width / 2,
        k_line=k_line,
    )
