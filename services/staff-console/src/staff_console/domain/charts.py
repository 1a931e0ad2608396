"""Charts as inline SVG, drawn here from numbers: no script, no library, nothing fetched by the browser.

Every function returns an ``<svg>`` element as text, sized by ``viewBox`` so it scales with its card. Labels are
escaped; colours come from the console's palette.
"""

import itertools
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape

INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
PALETTE = ("#1d4e89", "#c2410c", "#2a9d8f", "#b4262a", "#7c3aed", "#ca8a04", "#0f766e", "#9d174d")
FONT = 'font-family="PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif"'


def nice_step(maximum: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) that divides ``0..maximum`` into about ``ticks`` parts."""
    if maximum <= 0:
        return 1.0
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return float(factor * power)
    return float(10 * power)


def _fit(text: str, width: int) -> str:
    """Shorten a label to about ``width`` pixels (a CJK character is about twice as wide as a Latin one)."""
    used, kept = 0.0, list[str]()
    for character in text:
        used += 13 if ord(character) > 0x2E80 else 7
        if used > width:
            return "".join(kept).rstrip() + "…"
        kept.append(character)
    return text


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def _svg(width: int, height: int, body: str, title: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" {FONT}><title>{escape(title)}</title>{body}</svg>'
    )


def empty_chart(message: str, width: int = 520, height: int = 180) -> str:
    body = (
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="8" fill="#fafafa" stroke="{GRID}"/>'
        f'<text x="{width / 2}" y="{height / 2 + 5}" text-anchor="middle" font-size="14" fill="{MUTED}">'
        f"{escape(message)}</text>"
    )
    return _svg(width, height, body, message)


def bar_chart(rows: Sequence[tuple[str, float]], *, title: str, color: str = PALETTE[0], width: int = 520) -> str:
    """Horizontal bars, largest first as given; the value is written at the end of each bar."""
    if not rows:
        return empty_chart(title, width)
    row_height, label_width, gap = 30, 160, 8
    height = row_height * len(rows) + 10
    peak = max(value for _, value in rows) or 1
    room = width - label_width - 60
    parts = []
    for index, (name, value) in enumerate(rows):
        y = 5 + index * row_height
        length = max(2.0, room * value / peak)
        parts.append(
            f'<text x="{label_width - 10}" y="{y + 19}" text-anchor="end" font-size="13" fill="{INK}">'
            f"{escape(_fit(name, label_width - 14))}</text>"
            f'<rect x="{label_width}" y="{y + 5}" width="{length:.1f}" height="{row_height - gap - 2}" rx="4" '
            f'fill="{color}"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 19}" font-size="13" fill="{MUTED}">'
            f"{_number(value)}</text>"
        )
    return _svg(width, height, "".join(parts), title)


def column_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    *,
    title: str,
    width: int = 520,
    height: int = 230,
) -> str:
    """Grouped columns: one group per category, one column per series ``(name, colour, values)``, with a legend."""
    if not categories or not series:
        return empty_chart(title, width, height)
    left, right, top, bottom = 44, 12, 30, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((max(values) if values else 0) for _, _, values in series)
    step = nice_step(peak)
    top_value = step * max(1, math.ceil(peak / step))
    parts = []
    for tick in range(int(top_value / step) + 1):
        value = tick * step
        y = top + plot_h - plot_h * value / top_value
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{MUTED}">'
            f"{_number(value)}</text>"
        )
    group_w = plot_w / len(categories)
    column_w = min(28.0, group_w * 0.7 / len(series))
    for index, category in enumerate(categories):
        centre = left + group_w * (index + 0.5)
        start = centre - column_w * len(series) / 2
        for number, (_, colour, values) in enumerate(series):
            value = values[index] if index < len(values) else 0
            bar_h = plot_h * value / top_value
            parts.append(
                f'<rect x="{start + number * column_w:.1f}" y="{top + plot_h - bar_h:.1f}" '
                f'width="{column_w - 2:.1f}" height="{bar_h:.1f}" rx="3" fill="{colour}"/>'
            )
        parts.append(
            f'<text x="{centre:.1f}" y="{height - 8}" text-anchor="middle" font-size="11" fill="{MUTED}">'
            f"{escape(category)}</text>"
        )
    parts.append(_legend([(name, colour) for name, colour, _ in series], left, 16))
    return _svg(width, height, "".join(parts), title)


def _legend(entries: Sequence[tuple[str, str]], x: float, y: float) -> str:
    parts = []
    for name, colour in entries:
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 9}" width="10" height="10" rx="2" fill="{colour}"/>'
            f'<text x="{x + 14:.1f}" y="{y}" font-size="12" fill="{INK}">{escape(name)}</text>'
        )
        x += 30 + sum(13 if ord(character) > 0x2E80 else 7 for character in name)
    return "".join(parts)


def line_chart(
    series: Sequence[tuple[str, Sequence[tuple[datetime, float]]]],
    *,
    title: str,
    value_format: Callable[[float], str] = _number,
    width: int = 520,
    height: int = 230,
) -> str:
    """Step lines over time (a balance holds its value until the next movement), one per series."""
    points = [point for _, line in series for point in line]
    if not points:
        return empty_chart(title, width, height)
    left, right, top, bottom = 64, 14, 30, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    first = min(when for when, _ in points)
    last = max(when for when, _ in points)
    span = (last - first).total_seconds() or 1.0
    peak = max(value for _, value in points)
    step = nice_step(peak)
    top_value = step * max(1, math.ceil(peak / step))

    def x_of(when: datetime) -> float:
        return left + plot_w * (when - first).total_seconds() / span

    def y_of(value: float) -> float:
        return top + plot_h - plot_h * value / top_value

    parts = []
    for tick in range(int(top_value / step) + 1):
        value = tick * step
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y_of(value):.1f}" y2="{y_of(value):.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y_of(value) + 4:.1f}" text-anchor="end" font-size="11" fill="{MUTED}">'
            f"{escape(value_format(value))}</text>"
        )
    for when, anchor in ((first, "start"), (last, "end")):
        parts.append(
            f'<text x="{x_of(when):.1f}" y="{height - 8}" text-anchor="{anchor}" font-size="11" fill="{MUTED}">'
            f"{when:%m-%d %H:%M}</text>"
        )
    legend = []
    for index, (name, line) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        legend.append((name, colour))
        ordered = sorted(line)
        if not ordered:
            continue
        path = [f"M{x_of(ordered[0][0]):.1f},{y_of(ordered[0][1]):.1f}"]
        for (_, before), (when, value) in itertools.pairwise(ordered):
            path.append(f"H{x_of(when):.1f}V{y_of(before):.1f}V{y_of(value):.1f}")
        path.append(f"H{x_of(last):.1f}")
        parts.append(f'<path d="{"".join(path)}" fill="none" stroke="{colour}" stroke-width="2.2"/>')
        end_x, end_y = x_of(ordered[-1][0]), y_of(ordered[-1][1])
        parts.append(f'<circle cx="{end_x:.1f}" cy="{end_y:.1f}" r="3.5" fill="{colour}"/>')
    parts.append(_legend(legend, left, 16))
    return _svg(width, height, "".join(parts), title)


def ratio_ring(ratio: float | None, *, title: str, caption: str, colour: str = PALETTE[2], size: int = 150) -> str:
    """A ring filled to ``ratio`` (0..1) with the percentage in the middle; ``None`` draws an empty ring."""
    radius, stroke = size / 2 - 12, 14
    circumference = 2 * math.pi * radius
    filled = circumference * (ratio or 0)
    centre = size / 2
    text = "—" if ratio is None else f"{ratio * 100:.0f}%"
    arc = (
        f'<circle cx="{centre}" cy="{centre}" r="{radius}" fill="none" stroke="{colour}" stroke-width="{stroke}" '
        f'stroke-dasharray="{filled:.1f} {circumference:.1f}" stroke-linecap="round" '
        f'transform="rotate(-90 {centre} {centre})"/>'
        if filled > 0
        else ""
    )
    body = (
        f'<circle cx="{centre}" cy="{centre}" r="{radius}" fill="none" stroke="{GRID}" stroke-width="{stroke}"/>'
        f"{arc}"
        f'<text x="{centre}" y="{centre + 8}" text-anchor="middle" font-size="26" font-weight="600" fill="{INK}">'
        f"{text}</text>"
        f'<text x="{centre}" y="{centre + 28}" text-anchor="middle" font-size="11" fill="{MUTED}">'
        f"{escape(caption)}</text>"
    )
    return _svg(size, size, body, title)
