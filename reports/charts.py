"""Charts drawn on the server as SVG: no script, so the Content-Security-Policy holds, and the numbers
drawn are the report's own. Each chart sits beside its table, which is what screen readers read."""

from dataclasses import dataclass
from decimal import Decimal

# Current to oldest: green to dark red, distinguishable in grey too (lightness falls bucket by bucket).
BUCKET_COLOURS = ("#2e7d32", "#9ccc65", "#fdd835", "#fb8c00", "#e53935", "#b71c1c", "#880e4f", "#4a148c", "#311b92",
                  "#1a0033")
NAME_WIDTH = 230  # px for the names on the left
BAR_WIDTH = 520
ROW_HEIGHT = 26
MAX_NAME = 28


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    colour: str
    title: str


@dataclass(frozen=True)
class Bar:
    y: int
    name: str
    full_name: str
    total: str
    segments: list[Segment]


@dataclass(frozen=True)
class StackedBars:
    width: int
    height: int
    bars: list[Bar]
    legend: list[tuple[str, str, int]]  # (label, colour, x)
    name_width: int = NAME_WIDTH
    bar_width: int = BAR_WIDTH

    @property
    def legend_y(self) -> int:
        return self.height - 8


def stacked_bars(rows: list[tuple[str, list[Decimal]]], labels: list[str], *, money) -> StackedBars:
    """Horizontal bars, one per (name, amounts by bucket), scaled to the largest total; `money` formats an
    amount for the tooltips and the total written after each bar."""
    largest = max((sum(amounts) for _name, amounts in rows), default=Decimal(0)) or Decimal(1)
    bars = []
    for index, (name, amounts) in enumerate(rows):
        x, segments = float(NAME_WIDTH), []
        for label, colour, amount in zip(labels, BUCKET_COLOURS, amounts, strict=False):
            if amount <= 0:
                continue
            width = float(amount / largest) * BAR_WIDTH
            segments.append(Segment(round(x, 2), round(width, 2), colour, f"{name}: {label} {money(amount)}"))
            x += width
        short = name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"
        bars.append(Bar(index * ROW_HEIGHT + 8, short, name, money(sum(amounts)), segments))
    legend, x = [], NAME_WIDTH
    for label, colour in zip(labels, BUCKET_COLOURS, strict=False):
        legend.append((label, colour, x))
        x += 14 + 7 * len(label) + 16
    height = len(rows) * ROW_HEIGHT + 40
    return StackedBars(width=max(NAME_WIDTH + BAR_WIDTH + 110, x), height=height, bars=bars, legend=legend)
