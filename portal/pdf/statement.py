"""The statement PDF: laid out here, drawn by WeasyPrint.

WeasyPrint's time and memory follow the lines and boxes it lays out and the glyphs it draws (one by one,
in Python): measured here, a printed line ~0.3 ms plus ~5 µs a glyph, an empty positioned block ~0.6 ms,
a table cell ~0.8 ms; a six-column table of 1,000 lines is 6,000 cells. So the statement is laid out in
Python, and WeasyPrint gets, for each page:

- the rows as ONE block of preformatted text, one printed line per row (a wrapped description or
  account name adds a line). Each cell is placed exactly with few glyphs (`_Line`): em spaces, spaces,
  then a tab or three onto a 1-px grid of tab stops; an amount then ends on its column's edge with
  spaces ("$", digits, "," and "." are whole multiples of a space in this typeface). Widths come from
  the typeface's own metrics (metrics.py), kerning and ligatures off; columns are sized to their content;
- every rule, total band and heading bar of the page as ONE SVG image;
- the heading labels (a block each) and page one's letterhead.

Page breaks are ours: a row never splits, a per-account table that fits on a page is not split, every
page repeats its table's headings and names its own number and the total ("Page 3 of 19"), so a long
statement is rendered in parts of whole pages one after the other (`statement_documents`) and joined, its
memory that of one part. The look is the invoice's
(templates/pdf/_base.html): letterhead, typeface, colours, dark heading bar, amounts as its `money` filter
writes them; dates as the portal writes them.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote

from django.template.loader import render_to_string
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe

from billing.money import ZERO, format_money
from billing.selectors.statements import AccountColumn, LineKind, account_columns, combined

from .metrics import text_width, wrap

# Geometry in points: A4 less the invoice's margins (18 mm top, 20 mm bottom, 16 mm either side).
WIDTH_PT = 504.0
HEIGHT_PT = 733.0
FONT_PT = 8.5  # rows; the invoice's items are 9.5 pt, a statement has fifty rows a page
LINE_PT = 13.0  # one printed line
PAD_PT = 6.0  # a cell's inner space either side, as in the invoice's table
# Tab stops in the rows: every CSS pixel. A tab covers at most a pixel or two here, since WeasyPrint
# (v70) draws a tab 2.4 % wider than it lays it out, an error that would grow with longer tabs.
TAB_PT = 0.75
EM_SPACE = "\u2003"  # Pango sets it one em wide in any font, drawn as the font's space widened
EM_PT = FONT_PT
MAX_TAIL = 5  # spaces after the last tab that put an amount's end within 0.06 pt of its column's edge
MIN_TEXT_PT = 120.0  # the narrowest the description column may get
PAGES_PER_DOCUMENT = 40  # a long statement is rendered in parts this long, one after the other
HEADING_PT = 18.0  # the heading bar; two-line labels add LABEL_LINE_PT
LABEL_LINE_PT = 9.0
HEADING_FONT_PT = 7.5
LABEL_SPACING_PT = 0.4  # letter-spacing of the heading labels, as the invoice's
CAPTION_PT = 30.0  # "Per-account subtotals", with the space above it
CAPTION_LINE_PT = 18.0
NOTE_FONT_PT = 7.5
NOTE_LINE_PT = 10.5
NOTE_GAP_PT = 6.0
DATE_FORMAT = "j M Y"  # as the portal writes dates
_SLACK_PT = 0.75  # how far text may run past where the next cell starts before it is an error

# The letterhead on page one, in the invoice's sizes (font size × 1.4 line height, its paddings).
_ORG_NAME_PT, _ORG_LINE_PT, _LOGO_PT = 19.6, 11.9, 54.0
_TITLE_PT, _PERIOD_PT = 25.0, 15.4
_HEAD_RULE_PT = 10.0 + 2.0 + 14.0  # padding, border and margin under the letterhead
_PARTY_LINE_PT, _LABEL_PT, _META_ROW_PT = 13.3, 12.5, 15.3
_PARTIES_GAP_PT = 14.0
_HEADER_SLACK_PT = 4.0


# --- What the statement says ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # "\n" splits a label over two lines
    numeric: bool = False  # amounts: right-aligned, one line
    flexible: bool = False  # takes the width the other columns leave (one per table)
    wraps: bool = False  # long text wraps within the column
    max_pt: float = 0.0  # a column that wraps is at most this wide (0: as wide as its widest text)
    min_pt: float = MIN_TEXT_PT  # the flexible column is at least this wide


@dataclass(frozen=True)
class Row:
    cells: dict[str, str]  # column key -> its text (missing: blank)
    style: str = "row"  # "row": a rule above it; "open": muted; "total": bold on a band


@dataclass
class Table:
    columns: list[Column]
    rows: list[Row]
    caption: str = ""
    note: str = ""


def _money(amount: Decimal | None, currency: str) -> str:
    """As the invoice writes amounts; a negative one with a true minus sign, as the invoice's discounts."""
    text = format_money(amount, currency).strip()
    return "\u2212" + text[1:] if text.startswith("-") else text


def _date(on) -> str:
    return date_format(on, DATE_FORMAT)


def statement_tables(statement) -> list[Table]:
    """The statement as tables of rows: its lines, and per-account subtotals when it is consolidated."""
    cur = statement.currency
    consolidated = statement.is_consolidated
    columns = [Column("date", "Date")]
    if consolidated:
        columns.append(Column("account", "Account", wraps=True, max_pt=132.0))
    columns += [
        Column("text", "Transaction", flexible=True, wraps=True),
        Column("debit", "Amount", numeric=True),
        Column("credit", "Payments", numeric=True),
        Column("balance", "Balance", numeric=True),
    ]
    rows = [Row({"date": _date(statement.start), "text": "Opening balance",
                 "balance": _money(statement.opening_balance, cur)}, "open")]
    for line in statement.lines:
        cells = {"date": _date(line.date), "text": line.description, "balance": _money(line.balance, cur)}
        if line.debit:
            cells["debit"] = _money(line.debit, cur)
        if line.credit:
            cells["credit"] = _money(line.credit, cur)
        if consolidated:
            cells["account"] = line.customer_name
        rows.append(Row(cells))
    rows.append(Row({"date": _date(statement.end), "text": "Balance due",
                     "debit": _money(statement.total_debits, cur), "credit": _money(statement.total_credits, cur),
                     "balance": _money(statement.closing_balance, cur)}, "total"))
    tables = [Table(columns, rows)]
    if consolidated:
        tables.append(_accounts_table(statement))
    return tables


# The per-account table is the statement page's (`account_columns`: Opening, a column per kind of movement
# the period has, Closing), from the same `AccountSubtotals`. Eight amount columns leave the account names
# no room on A4, so while they do not fit, these columns are combined in one, in this order, and the note
# says what it holds.
COMBINED_COLUMNS = (
    ((LineKind.PAYMENT, LineKind.CREDIT_NOTE, LineKind.REFUND), "Payments and credits"),
    ((LineKind.TRANSFER_IN, LineKind.TRANSFER_OUT), "Between accounts"),
)
MIN_ACCOUNT_PT = 96.0  # account names wrap: the narrowest the account column may get


def _heading_lines(heading: str) -> str:
    """A heading of several words on two lines, cut where the longer line is shortest."""
    words = heading.split()
    if len(words) < 2:
        return heading
    cuts = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    return "\n".join(min(cuts, key=lambda cut: max(label_width(cut[0]), label_width(cut[1]))))


def _change(amount: Decimal, currency: str) -> str:
    """A column's effect on the balance, as the statement page shows it: a credit taken off ("−$40.00")."""
    return _money(amount or ZERO, currency)  # never "−$0.00"


def _combined_note(column: AccountColumn) -> str:
    """What a combined column holds, in the page's headings: "Payments and credits: Paid plus Credit notes
    less Refunded, taken off the balance." (it shows the kinds' effect on the balance)."""
    credit_led = column.kinds[0] not in LineKind.DEBITS
    plus = [LineKind.HEADINGS[kind] for kind in column.kinds if (kind in LineKind.DEBITS) != credit_led]
    less = [LineKind.HEADINGS[kind] for kind in column.kinds if (kind in LineKind.DEBITS) == credit_led]
    words = " plus ".join(plus) + "".join(f" less {heading}" for heading in less)
    return f"{column.heading}: {words}{', taken off the balance' if credit_led else ''}."


def _accounts_layout(columns: list[AccountColumn], statement) -> tuple[list[Column], list[Row]]:
    cur = statement.currency
    table = [Column("name", "Account", flexible=True, wraps=True, min_pt=MIN_ACCOUNT_PT),
             Column("opening", "Opening", numeric=True)]
    table += [Column(f"c{i}", _heading_lines(column.heading), numeric=True) for i, column in enumerate(columns)]
    table.append(Column("closing", "Closing", numeric=True))
    rows = []
    for subtotals, style in [*((a, "row") for a in statement.accounts), (statement.totals, "total")]:
        cells = {"name": subtotals.customer_name, "opening": _money(subtotals.opening_balance, cur),
                 "closing": _money(subtotals.closing_balance, cur)}
        cells.update({f"c{i}": _change(column.change(subtotals), cur) for i, column in enumerate(columns)})
        rows.append(Row(cells, style))
    return table, rows


def _accounts_table(statement) -> Table:
    """The per-account table: the statement's `AccountSubtotals` (the statement page's figures) under the
    page's headings, each credit taken off as the page shows it, so each row adds up from left to right."""
    columns = account_columns(statement.totals)
    table, rows = _accounts_layout(columns, statement)
    for kinds, heading in COMBINED_COLUMNS:
        if _flexible_width(table, rows) >= MIN_ACCOUNT_PT:
            break
        columns = combined(columns, kinds, heading)
        table, rows = _accounts_layout(columns, statement)
    note = (
        "Each row adds up: the opening balance, plus what was invoiced, refunded or paid for other accounts, "
        "less what was paid, credited or paid by other accounts, is the closing balance."
    )
    if statement.transfers_between_accounts:
        note += (
            " Money one of these accounts applied to another's invoice is in both rows (To other accounts, From "
            "other accounts) and cancels out in the consolidated list: "
            f"{_money(statement.transfers_between_accounts, statement.currency)} in this period."
        )
    note += "".join(" " + _combined_note(column) for column in columns if len(column.kinds) > 1)
    return Table(table, rows, caption="Per-account subtotals", note=note)


# --- Columns: how wide, and where each cell's text goes ------------------------------------------


def label_width(label: str) -> float:
    """A heading label's width: bold capitals, letter-spaced as the template sets them."""
    return max(text_width(line.upper(), HEADING_FONT_PT, bold=True) + LABEL_SPACING_PT * len(line)
               for line in label.split("\n"))


@dataclass(frozen=True)
class _Placed:
    """A column on the page, in the coordinates of the rows' text block (which starts PAD_PT in): its text
    starts at `x` and, for amounts, ends at `right`; left-aligned text wraps at `right`."""

    column: Column
    x: float
    width: float
    right: float


def _widths(columns: list[Column], rows: list[Row]) -> dict[str, float]:
    """Each column as wide as its widest text or label, the flexible one the rest; edges on the tab grid."""
    widest: dict[str, float] = {}
    for row in rows:
        bold = row.style == "total"
        for key, text in row.cells.items():
            widest[key] = max(widest.get(key, 0.0), text_width(text, FONT_PT, bold=bold))
    widths = {}
    for column in columns:
        need = max(widest.get(column.key, 0.0), label_width(column.label))
        if column.max_pt:
            need = min(need, column.max_pt - 2 * PAD_PT)
        widths[column.key] = math.ceil((need + 2 * PAD_PT) / TAB_PT) * TAB_PT
    flexible = next(column for column in columns if column.flexible)
    widths[flexible.key] = WIDTH_PT - sum(w for key, w in widths.items() if key != flexible.key)
    return widths


def _flexible_width(columns: list[Column], rows: list[Row]) -> float:
    return _widths(columns, rows)[next(column.key for column in columns if column.flexible)]


def _fit(columns: list[Column], rows: list[Row]) -> list[_Placed]:
    """The columns placed across the page (`_widths`)."""
    widths = _widths(columns, rows)
    flexible = next(column for column in columns if column.flexible)
    if widths[flexible.key] < flexible.min_pt:
        raise ValueError("the statement's amounts leave no room for its text")
    placed, x = [], 0.0
    for column in columns:
        placed.append(_Placed(column, x, widths[column.key], x + widths[column.key] - 2 * PAD_PT))
        x += widths[column.key]
    return placed


class _Line:
    """One printed line of a table's rows, each cell reached with as few glyphs as can place it exactly
    (WeasyPrint's time follows glyphs): em spaces (one glyph for 8.5 pt), then spaces, then a tab or
    three onto a point of the tab grid (a stop every TAB_PT), then, for an amount, the spaces that end it
    on its column's right edge (the grid point chosen so that they do, to within a few hundredths of a
    point)."""

    def __init__(self, *, bold: bool):
        self.bold = bold
        self.space = text_width(" ", FONT_PT, bold=bold)
        self.parts: list[str] = []
        self.x = 0.0

    def _to(self, target: float):
        """Move to `target`: on the grid for left-aligned text, anywhere for an amount's start."""
        if target < self.x - _SLACK_PT:
            raise ValueError("a cell ran into the next column")  # wrap widths keep this from happening
        if target - self.x < TAB_PT / 2:
            return
        # The grid point to tab onto, and the spaces after it: of up to MAX_TAIL spaces, the count that
        # leaves the grid point nearest an exact one (left-aligned text: none, its start is on the grid).
        tail = min(
            (n for n in range(MAX_TAIL + 1) if target - n * self.space >= self.x + TAB_PT),
            key=lambda n: abs((target - n * self.space) / TAB_PT - round((target - n * self.space) / TAB_PT)),
            default=0,
        )
        stop = round((target - tail * self.space) / TAB_PT) * TAB_PT
        ems, spaces, tabs = self._whitespace(stop)
        self.parts.append(EM_SPACE * ems + " " * spaces + "\t" * tabs + " " * tail)
        self.x = target

    def _whitespace(self, stop: float) -> tuple[int, int, int]:
        """The fewest em spaces, spaces and tabs from here onto the tab stop `stop`. A tab goes to the next
        stop after where it starts, so the em spaces and spaces must end before `stop` and not within a
        twentieth of a step of any stop (where a rounding could send a tab one stop further)."""
        most = max(0, math.floor((stop - self.x) / EM_PT))
        best = None
        for ems in range(most, max(most - 2, 0) - 1, -1):
            for spaces in range(5):
                x = self.x + ems * EM_PT + spaces * self.space
                step = (x / TAB_PT) % 1
                if x > stop - TAB_PT * 0.05 or step < 0.05 or step > 0.95:
                    continue
                tabs = round(stop / TAB_PT) - math.floor(x / TAB_PT)
                if best is None or ems + spaces + tabs < sum(best):
                    best = (ems, spaces, tabs)
        if best is None:
            raise ValueError("no whitespace reaches the next cell")  # a cell always leaves room before the next
        return best

    def add(self, placed: _Placed, text: str):
        if not text:
            return
        width = text_width(text, FONT_PT, bold=self.bold)
        self._to(placed.right - width if placed.column.numeric else placed.x)
        self.parts.append(text)
        self.x += width


def _row_lines(placed: list[_Placed], row: Row) -> list[str]:
    """The row's printed lines: one, or more when a cell wraps."""
    cells = {
        p.column.key: (wrap(row.cells[p.column.key], p.right - p.x, FONT_PT, bold=row.style == "total")
                       if p.column.wraps else [row.cells[p.column.key]])
        for p in placed if row.cells.get(p.column.key)
    }
    lines = []
    for i in range(max((len(parts) for parts in cells.values()), default=1)):
        line = _Line(bold=row.style == "total")
        for p in placed:
            parts = cells.get(p.column.key, ())
            if i < len(parts):
                line.add(p, parts[i])
        lines.append("".join(line.parts))
    return lines


# --- Pages ----------------------------------------------------------------------------------------


@dataclass
class Box:
    """One absolutely positioned block of a page: its class, place and width in points, and its text."""

    css: str
    x: float
    y: float
    width: float
    text: str = ""


@dataclass
class Page:
    number: int
    boxes: list[Box] = field(default_factory=list)
    bars: list[tuple[float, float]] = field(default_factory=list)  # (top, height): heading bars
    bands: list[tuple[float, float]] = field(default_factory=list)  # (top, height): total rows
    rules: list[float] = field(default_factory=list)  # y of a hairline above a row

    @property
    def graphics(self) -> str:
        """Every bar, band and rule of the page as one SVG image (one box for WeasyPrint, not one each)."""
        shapes = [f'<rect x="0" y="{y:.2f}" width="{WIDTH_PT:g}" height="{h:.2f}" fill="#111827"/>'
                  for y, h in self.bars]
        shapes += [f'<rect x="0" y="{y:.2f}" width="{WIDTH_PT:g}" height="{h:.2f}" fill="#eeecff"/>'
                   f'<rect x="0" y="{y:.2f}" width="{WIDTH_PT:g}" height="1.5" fill="#111827"/>'
                   for y, h in self.bands]
        if self.rules:
            path = "".join(f"M0 {y + 0.25:.2f}H{WIDTH_PT:g}" for y in self.rules)
            shapes.append(f'<path d="{path}" stroke="#d1d5db" stroke-width=".5"/>')
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_PT:g}" height="{HEIGHT_PT:g}" '
               f'viewBox="0 0 {WIDTH_PT:g} {HEIGHT_PT:g}">{"".join(shapes)}</svg>')
        return "data:image/svg+xml," + quote(svg)


def _text(lines: list[str]) -> str:
    return mark_safe("\n".join(escape(line) for line in lines))


class _Pager:
    """Places tables on pages top to bottom; a row never splits, a continued table repeats its headings."""

    def __init__(self, first_page_top: float):
        self.pages: list[Page] = []
        self.first_page_top = first_page_top
        self.y = HEIGHT_PT  # no page yet
        self.under_heading = False  # the next row sits right under a heading bar: no rule above it

    def new_page(self):
        self.pages.append(Page(len(self.pages) + 1))
        self.y = self.first_page_top if len(self.pages) == 1 else 0.0

    @property
    def room(self) -> float:
        return HEIGHT_PT - self.y

    def place(self, table: Table):
        placed = _fit(table.columns, table.rows)
        heading_pt = HEADING_PT + (LABEL_LINE_PT if any("\n" in c.label for c in table.columns) else 0.0)
        printed = [(row.style, _row_lines(placed, row)) for row in table.rows]
        first_row = len(printed[0][1]) * LINE_PT if printed else 0.0
        if table.caption:
            # a table that fits on a page is kept on one (not a row or two carried over to the next)
            whole = CAPTION_PT + heading_pt + sum(len(lines) for _style, lines in printed) * LINE_PT
            if table.note:
                whole += NOTE_GAP_PT + len(wrap(table.note, WIDTH_PT, NOTE_FONT_PT)) * NOTE_LINE_PT
            if self.room < CAPTION_PT + heading_pt + first_row or self.room < whole <= HEIGHT_PT:
                self.new_page()
            top = self.y + (CAPTION_PT - CAPTION_LINE_PT if self.y > 0 else 0.0)
            self.pages[-1].boxes.append(Box("caption", 0.0, top, WIDTH_PT, table.caption))
            self.y = top + CAPTION_LINE_PT
        elif self.room < heading_pt + first_row:
            self.new_page()
        self._heading(placed, heading_pt)
        run: list[str] = []
        run_style, run_y = "", self.y
        for style, lines in printed:
            height = len(lines) * LINE_PT
            if run and (style != run_style or height > self.room):
                self._flush(run, run_style, run_y)
                run = []
            if height > self.room:
                self.new_page()
                self._heading(placed, heading_pt)
            if not run:
                run_style, run_y = style, self.y
            page = self.pages[-1]
            if style == "total":
                page.bands.append((self.y, height))
            elif not self.under_heading:
                page.rules.append(self.y)
            self.under_heading = False
            run += lines
            self.y += height
        if run:
            self._flush(run, run_style, run_y)
        if table.note:
            note = wrap(table.note, WIDTH_PT, NOTE_FONT_PT)
            height = NOTE_GAP_PT + len(note) * NOTE_LINE_PT
            if height > self.room:
                self.new_page()
            self.pages[-1].boxes.append(Box("note", 0.0, self.y + NOTE_GAP_PT, WIDTH_PT, _text(note)))
            self.y += height

    def _heading(self, placed: list[_Placed], height: float):
        page = self.pages[-1]
        page.bars.append((self.y, height))
        for p in placed:
            lines = p.column.label.split("\n")
            top = self.y + (height - len(lines) * LABEL_LINE_PT) / 2
            if p.column.numeric:  # letter-spacing trails the last letter too: the box ends that much further
                page.boxes.append(Box("th num", PAD_PT + p.x, top, p.right - p.x + LABEL_SPACING_PT, _text(lines)))
            else:
                page.boxes.append(Box("th", PAD_PT + p.x, top, p.right - p.x, _text(lines)))
        self.y += height
        self.under_heading = True

    def _flush(self, lines: list[str], style: str, top: float):
        self.pages[-1].boxes.append(Box(f"rows {style}", PAD_PT, top, WIDTH_PT - 2 * PAD_PT, _text(lines)))


def _lines_of(text: str, width_pt: float, size_pt: float) -> int:
    return sum(len(wrap(line, width_pt, size_pt)) for line in text.splitlines()) if text else 0


def first_page_top(*, organisation, customer, statement, logo: str) -> float:
    """Where the rows start on page one: under the letterhead and the addressee, as tall as their lines."""
    address = "\n".join(part for part in (
        organisation.address or "",
        " · ".join(x for x in (organisation.email, organisation.phone) if x),
        f"Tax no. {organisation.tax_id}" if organisation.tax_id else "",
    ) if part)
    org = (_LOGO_PT if logo else 0.0) + _ORG_NAME_PT + _lines_of(address, WIDTH_PT * 0.6, 8.5) * _ORG_LINE_PT
    head = max(org, _TITLE_PT + _PERIOD_PT) + _HEAD_RULE_PT
    to_lines = 1 + (_lines_of(getattr(customer, "billing_address", "") or "", WIDTH_PT * 0.5, 9.5) if customer else 0)
    to_lines += 1 if statement.is_consolidated else 0
    parties = max(_LABEL_PT + to_lines * _PARTY_LINE_PT, 5 * _META_ROW_PT) + _PARTIES_GAP_PT
    return round(head + parties + _HEADER_SLACK_PT, 1)


def statement_pages(statement, *, top: float) -> list[Page]:
    """The statement cut into pages; page one's rows start at `top`."""
    pager = _Pager(top)
    pager.new_page()
    for table in statement_tables(statement):
        pager.place(table)
    return pager.pages


def statement_documents(context: dict) -> Iterator[tuple[str, int, int]]:
    """The statement's HTML for WeasyPrint, as documents of at most PAGES_PER_DOCUMENT whole pages, to be
    rendered one after the other and joined: WeasyPrint keeps a document's whole layout until it is
    written, so a 10,000-line statement in one document would hold ~200 pages of it. Each page names its
    own number and the total ("Page 3 of 190"), so the parts need no renumbering. `context` has
    statement, customer, organisation and logo. Yields (html, pages up to the end of this part, pages)."""
    statement = context["statement"]
    top = first_page_top(organisation=context["organisation"], customer=context.get("customer"),
                         statement=statement, logo=context.get("logo", ""))
    pages = statement_pages(statement, top=top)
    shared = {
        **context,
        "page_count": len(pages),
        "first_page_top": top,
        "geometry": {"font_pt": FONT_PT, "line_pt": LINE_PT, "tab_pt": TAB_PT, "page_height": HEIGHT_PT,
                     "width": WIDTH_PT, "heading_font_pt": HEADING_FONT_PT, "label_line_pt": LABEL_LINE_PT,
                     "label_spacing_pt": LABEL_SPACING_PT, "note_font_pt": NOTE_FONT_PT,
                     "note_line_pt": NOTE_LINE_PT, "caption_line_pt": CAPTION_LINE_PT},
        "account_count": len(statement.sections),
    }
    for start in range(0, len(pages), PAGES_PER_DOCUMENT):
        part = pages[start:start + PAGES_PER_DOCUMENT]
        yield render_to_string("pdf/statement.html", {**shared, "pages": part}), start + len(part), len(pages)
