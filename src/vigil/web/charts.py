"""Charts drawn on the server as inline SVG: no script, no external library, readable offline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from vigil.core.clock import to_local

WIDTH = 720
HEIGHT = 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 10, 14, 30


def _axis(value: int) -> tuple[int, int]:
    """Top and step of a y axis with at most six whole-number ticks (steps of 1, 2 or 5 x 10^k)."""
    value = max(value, 4)
    step = 1
    while True:
        for factor in (1, 2, 5):
            if value <= factor * step * 5:
                return factor * step * max(1, -(-value // (factor * step))), factor * step
        step *= 10


def _attrs(attrs: dict[str, object]) -> str:
    out = []
    for name, value in attrs.items():
        text = f"{value:.1f}" if isinstance(value, float) else str(value)
        out.append(f"{name.rstrip('_').replace('_', '-')}={quoteattr(text)}")
    return " ".join(out)


def _text(x: float, y: float, content: str, anchor: str = "middle") -> str:
    return f"<text {_attrs({'x': x, 'y': y, 'text_anchor': anchor})}>{escape(content)}</text>"


def _line(x1: float, x2: float, y: float, colour: str) -> str:
    return f"<line {_attrs({'x1': x1, 'x2': x2, 'y1': y, 'y2': y, 'stroke': colour})}/>"


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str = "", **extra: str) -> str:
    attrs = _attrs({**extra, "x": x, "y": y, "width": w, "height": h, "rx": 2, "fill": fill})
    return f"<rect {attrs}>" + (f"<title>{escape(tip)}</title>" if tip else "") + "</rect>"


def _open_svg(css_class: str, height: int, title: str) -> list[str]:
    attrs = _attrs(
        {
            "class_": css_class,
            "viewBox": f"0 0 {WIDTH} {height}",
            "role": "img",
            "aria_label": title,
            "xmlns": "http://www.w3.org/2000/svg",
        }
    )
    return [f"<svg {attrs}>", f"<title>{escape(title)}</title>"]


def daily_bars_svg(points: Sequence[tuple[date, int]], title: str, empty_text: str) -> str:
    """A bar per day; every text is escaped because titles are translated strings."""
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    base = _TOP + plot_h
    top, tick = _axis(max((n for _, n in points), default=0))
    parts = _open_svg("chart", HEIGHT, title)
    for value in range(0, top + 1, tick):
        y = base - plot_h * value / top
        parts.append(_line(_LEFT, WIDTH - _RIGHT, y, "#e3e8ee"))
        parts.append(_text(_LEFT - 6, y + 4, str(value), "end"))
    if not points:
        parts.append(_text(WIDTH / 2, HEIGHT / 2, empty_text))
    slot = plot_w / max(1, len(points))
    bar = max(2.0, slot * 0.7)
    label_every = max(1, len(points) // 10)
    for i, (day, count) in enumerate(points):
        x = _LEFT + i * slot + (slot - bar) / 2
        h = plot_h * count / top
        parts.append(_rect(x, base - h, bar, h, "#1f5f99", f"{day.isoformat()}: {count}"))
        if count:
            parts.append(_text(x + bar / 2, base - h - 3, str(count)))
        if i % label_every == 0 or i == len(points) - 1:
            parts.append(_text(x + bar / 2, HEIGHT - 10, day.strftime("%d/%m")))
    parts.append(_line(_LEFT, WIDTH - _RIGHT, base, "#9aa6b2"))
    parts.append("</svg>")
    return "".join(parts)


def coverage_svg(
    days: Sequence[tuple[str, datetime]], gaps: Sequence[tuple[datetime, datetime]], title: str
) -> str:
    """One 24-hour strip per day: covered hours green, hours with nobody on shift red.

    `days` are (label, start of the local day in UTC); `gaps` are UTC intervals.
    """
    row_h, label_w = 20, 80
    plot_w = WIDTH - label_w - _RIGHT
    height = row_h * len(days) + 24
    day_len = timedelta(days=1)
    parts = _open_svg("chart coverage", height, title)
    for hour in range(0, 25, 6):
        anchor = "end" if hour == 24 else "start" if hour == 0 else "middle"
        parts.append(_text(label_w + plot_w * hour / 24, height - 6, f"{hour:02d}:00", anchor))
    for i, (label, start) in enumerate(days):
        y = float(i * row_h + 2)
        end = start + day_len
        parts.append(_text(0, y + 14, label, "start"))
        parts.append(_rect(label_w, y, plot_w, row_h - 6, "#43a047"))
        for g_start, g_end in gaps:
            lo, hi = max(g_start, start), min(g_end, end)
            if hi <= lo:
                continue
            x = label_w + plot_w * ((lo - start) / day_len)
            w = max(1.0, plot_w * ((hi - lo) / day_len))
            tip = f"{label}: {to_local(lo):%H:%M}–{to_local(hi):%H:%M}"
            parts.append(_rect(x, y, w, row_h - 6, "#d32f2f", tip, class_="gap"))
    parts.append("</svg>")
    return "".join(parts)
