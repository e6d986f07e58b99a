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


def stacked_bars(rows: list[tuple[str, list[Decimal]]], labels: list[str], *, money,
                 colours: tuple[str, ...] = BUCKET_COLOURS) -> StackedBars:
    """Horizontal bars, one per (name, amounts by label), scaled to the largest total; `money` formats an
    amount for the tooltips and the total written after each bar; `colours` go with the labels in order."""
    largest = max((sum(amounts) for _name, amounts in rows), default=Decimal(0)) or Decimal(1)
    bars = []
    for index, (name, amounts) in enumerate(rows):
        x, segments = float(NAME_WIDTH), []
        for label, colour, amount in zip(labels, colours, amounts, strict=False):
            if amount <= 0:
                continue
            width = float(amount / largest) * BAR_WIDTH
            segments.append(Segment(round(x, 2), round(width, 2), colour, f"{name}: {label} {money(amount)}"))
            x += width
        short = name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"
        bars.append(Bar(index * ROW_HEIGHT + 8, short, name, money(sum(amounts)), segments))
    legend, x = [], NAME_WIDTH
    for label, colour in zip(labels, colours, strict=False):
        legend.append((label, colour, x))
        x += 14 + 7 * len(label) + 16
    height = len(rows) * ROW_HEIGHT + 40
    return StackedBars(width=max(NAME_WIDTH + BAR_WIDTH + 110, x), height=height, bars=bars, legend=legend)


# One colour per series (a group); past the palette the rest are added up as "Other".
SERIES_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
COLUMN_WIDTH = 28
COLUMN_GAP = 10
PLOT_HEIGHT = 220
AXIS_WIDTH = 64  # px for the amounts on the left


@dataclass(frozen=True)
class Column:
    x: float
    label: str  # the month, short
    year: str  # written under January and the first column
    segments: list[Segment]  # here `x` is the top (y) of the segment and `width` its height


@dataclass(frozen=True)
class StackedColumns:
    width: int
    height: int
    columns: list[Column]
    grid: list[tuple[float, str]]  # (y, amount) of the horizontal lines
    legend: list[tuple[str, str, int, int]]  # (name, colour, x, y)
    column_width: int = COLUMN_WIDTH
    plot_top: int = 10
    plot_bottom: int = 10 + PLOT_HEIGHT
    axis_width: int = AXIS_WIDTH


def stacked_columns(series: list[tuple[str, list[Decimal]]], months: list, *, money, compact) -> StackedColumns:
    """Vertical columns, one per month (`months`: dates), each stacked from the series' amounts that month,
    scaled to the largest month; more series than colours are added up as "Other" so no two share a colour.
    `money` formats the tooltips, `compact` the axis (e.g. 12k)."""
    if len(series) > len(SERIES_COLOURS):
        kept = series[: len(SERIES_COLOURS) - 1]
        rest = [sum(amounts) for amounts in zip(*(a for _n, a in series[len(kept):]), strict=True)]
        series = [*kept, ("Other", rest)]
    colours = SERIES_COLOURS
    top = max((sum(month) for month in zip(*(a for _n, a in series), strict=True)), default=Decimal(0)) \
        if series else Decimal(0)
    scale_max = _nice_ceiling(top)
    columns = []
    for index, month in enumerate(months):
        x = AXIS_WIDTH + COLUMN_GAP / 2 + index * (COLUMN_WIDTH + COLUMN_GAP)
        y = 10 + PLOT_HEIGHT
        segments = []
        for (name, amounts), colour in zip(series, colours, strict=False):
            amount = amounts[index]
            if amount <= 0:
                continue
            height = float(amount / scale_max) * PLOT_HEIGHT
            y -= height
            segments.append(Segment(round(y, 2), round(height, 2), colour,
                                    f"{name}, {month:%b %Y}: {money(amount)}"))
        year = f"{month:%Y}" if index == 0 or month.month == 1 else ""
        columns.append(Column(round(x, 2), f"{month:%b}", year, segments))
    width = AXIS_WIDTH + len(months) * (COLUMN_WIDTH + COLUMN_GAP) + 8
    grid = [(round(10 + PLOT_HEIGHT * (1 - step / 4), 2), compact(scale_max * step / 4)) for step in range(5)]
    legend, x, y = [], AXIS_WIDTH, 10 + PLOT_HEIGHT + 52
    for (name, _amounts), colour in zip(series, colours, strict=False):
        text_width = 14 + 7 * min(len(name), 30) + 16
        if x + text_width > width and x > AXIS_WIDTH:
            x, y = AXIS_WIDTH, y + 18
        legend.append((name if len(name) <= 30 else name[:29] + "…", colour, x, y))
        x += text_width
    return StackedColumns(width=width, height=y + 10, columns=columns, grid=grid, legend=legend)


def _nice_ceiling(amount: Decimal) -> Decimal:
    """The axis top: 1, 2, 2.5 or 5 times a power of ten, at least `amount` (4 grid steps read evenly)."""
    if amount <= 0:
        return Decimal(1)
    power = Decimal(10) ** (len(str(int(amount))) - 1)
    for factor in (1, 2, Decimal("2.5"), 4, 5, 10):
        if amount <= factor * power:
            return factor * power
    return 10 * power


def compact_amount(amount: Decimal) -> str:
    """12345 -> "12.3k", 2500000 -> "2.5M": the axis labels, never the figures of a table."""
    for limit, suffix in ((Decimal(10) ** 9, "bn"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k")):
        if amount >= limit:
            return f"{amount / limit:.1f}".removesuffix(".0") + suffix
    return f"{amount:.0f}"
