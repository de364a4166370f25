"""Charts as SVG geometry computed here and drawn by templates: no JavaScript, no inline script,
readable without a network. Each chart is a plain dict the template turns into <svg>."""

from __future__ import annotations

import datetime as dt

from .render import plural

PALETTE = ["#4f46e5", "#0891b2", "#16a34a", "#ca8a04", "#dc2626", "#9333ea", "#64748b"]
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 720, 240, 44, 36, 12


def _nice_max(value: int) -> int:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return int(10 * magnitude)


def _ticks(top: int, n: int = 4) -> list[dict]:
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    n = max(1, min(n, top))  # never two ticks with the same whole number
    return [{"value": round(top * i / n), "y": PAD_TOP + plot_h - plot_h * i / n} for i in range(n + 1)]


def _day_label(day: dt.date) -> str:
    return day.strftime("%-d %b")


def stacked_bars(data: dict, title: str, noun: str = "paper", name_series: bool = True) -> dict:
    """Bars per day, one colour per series; each bar's tooltip counts `noun`s and names its series
    ("18 Mar: 3 papers in cs.CV"; "18 Mar: 1 upvote" without the name)."""
    days = data["days"]
    series = data["series"]
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = plot_w / max(1, len(days))
    bar_w = min(slot * 0.8, 36.0)
    bars = []
    for i, day in enumerate(days):
        y = PAD_TOP + plot_h
        for k, (name, values) in enumerate(series.items()):
            h = plot_h * values[i] / top
            y -= h
            if values[i]:
                bars.append(
                    {"x": PAD_LEFT + i * slot + (slot - bar_w) / 2, "y": y, "w": bar_w, "h": h, "color": PALETTE[k % len(PALETTE)],
                     "label": f"{_day_label(day)}: {plural(values[i], noun)}" + (f" in {name}" if name_series else "")}
                )
    step = max(1, len(days) // 8)
    labels = [{"x": PAD_LEFT + i * slot + slot / 2, "text": _day_label(d)} for i, d in enumerate(days) if i % step == 0]
    legend = [{"name": n, "color": PALETTE[k % len(PALETTE)]} for k, n in enumerate(series)]
    return {"title": title, "width": WIDTH, "height": HEIGHT, "bars": bars, "ticks": _ticks(top), "labels": labels,
            "legend": legend, "axis_y": HEIGHT - PAD_BOTTOM, "left": PAD_LEFT}


def bars(points: list[tuple[dt.date, int]], title: str) -> dict:
    return stacked_bars({"days": [d for d, _ in points], "series": {"upvotes": [n for _, n in points]}}, title, noun="upvote", name_series=False)


def horizontal_bars(points: list[tuple[str, int]], title: str) -> dict:
    row_h, label_w = 24, 120
    height = PAD_TOP + row_h * max(1, len(points)) + 8
    top = max((n for _, n in points), default=1) or 1
    plot_w = WIDTH - label_w - 70
    rows = [
        {"y": PAD_TOP + i * row_h, "w": max(1.0, plot_w * n / top), "label": name, "value": n,
         "color": PALETTE[i % len(PALETTE)], "x": label_w}
        for i, (name, n) in enumerate(points)
    ]
    return {"title": title, "width": WIDTH, "height": height, "rows": rows, "row_h": row_h, "label_w": label_w}
