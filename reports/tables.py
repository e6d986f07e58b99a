"""Report tables as the shared template (templates/admin/reports/_table.html) draws them: cells already
formatted, so one template serves every report and the figures stay in the selectors."""

from dataclasses import dataclass, field


@dataclass
class TableRow:
    name: str  # the row's heading cell
    cells: list[str]  # one per column after the first, formatted
    url: str = ""  # the name links here
    note: str = ""  # quiet words after the name
    link: tuple[str, str] | None = None  # (url, text): a small second link after the name
    css: str = ""


@dataclass
class Table:
    caption: str
    columns: list[tuple[str, bool]]  # (heading, numeric: right-aligned); the first is the rows' names
    rows: list[TableRow]
    footer: TableRow | None = None
    help: list[tuple[str, str]] = field(default_factory=list)  # (term, what it means) under the table

    def _cells(self, row: TableRow) -> list[tuple[str, bool]]:
        return [(text, numeric) for text, (_heading, numeric) in zip(row.cells, self.columns[1:], strict=True)]

    @property
    def body(self) -> list[tuple[TableRow, list[tuple[str, bool]]]]:
        """Each row with its cells as (text, numeric), for the template (which cannot zip)."""
        return [(row, self._cells(row)) for row in self.rows]

    @property
    def foot(self) -> list[tuple[str, bool]]:
        return self._cells(self.footer) if self.footer else []
