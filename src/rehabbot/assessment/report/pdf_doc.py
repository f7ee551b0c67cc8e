"""The PDF writer: A4 pages laid out with matplotlib's PDF backend; the header, the tables (wide
ones split into column groups that repeat their key columns, long ones over as many pages as
they need), then each figure on a page of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D

from rehabbot.assessment.report.tables import Table

FloatVector = np.ndarray


#: PDF page: A4 portrait (in), margins (in), body font size (pt) and line height (pt).
PAGE_IN = (8.27, 11.69)


MARGIN_IN = 0.6


FONT_PT = 7.5


LINE_PT = 1.3 * FONT_PT


#: Space between table columns (pt).
GAP_PT = 6.0


class _Widths:
    """Text widths (pt) in the report's font, from per-character widths measured once (summing
    them ignores kerning, which only makes texts a little narrower than measured)."""

    def __init__(self, size_pt: float, weight: str = "normal") -> None:
        fig = Figure(figsize=PAGE_IN)
        self._renderer = FigureCanvasAgg(fig).get_renderer()  # type: ignore[no-untyped-call]
        self._font = FontProperties(size=size_pt, weight=weight)
        self._scale = 72.0 / fig.dpi
        self._chars: dict[str, float] = {}
        heights = []
        for n in (2, 12):  # measured as drawn: the pitch is what a text's lines are apart
            text = fig.text(0, 1, "\n".join(["lp"] * n), fontproperties=self._font,
                            linespacing=1.0)
            heights.append(text.get_window_extent(self._renderer).height * self._scale)
            text.remove()
        self.line_pitch_pt = (heights[1] - heights[0]) / 10
        """The distance (pt) matplotlib puts between lines at ``linespacing`` 1."""

    def __call__(self, text: str) -> float:
        """Width of ``text`` (pt)."""
        total = 0.0
        for char in text:
            width = self._chars.get(char)
            if width is None:
                width = self._renderer.get_text_width_height_descent(
                    char if char != " " else "i", self._font, ismath=False)[0] * self._scale
                self._chars[char] = width
            total += width
        return total

    def wrap(self, text: str, width_pt: float) -> list[str]:
        """``text`` broken into lines no wider than ``width_pt`` (at spaces; a word longer than
        the width is cut)."""
        lines: list[str] = []
        for paragraph in text.split("\n") or [""]:
            line = ""
            for word in paragraph.split(" "):
                candidate = f"{line} {word}" if line else word
                if self(candidate) <= width_pt:
                    line = candidate
                    continue
                if line:
                    lines.append(line)
                while self(word) > width_pt and len(word) > 1:
                    cut = max(1, next((i for i in range(len(word), 0, -1)
                                       if self(word[:i]) <= width_pt), 1))
                    lines.append(word[:cut])
                    word = word[cut:]
                line = word
            lines.append(line)
        return lines


def column_widths(cells: Sequence[Sequence[str]], available_pt: float,
                  width: Callable[[str], float]) -> list[float] | None:
    """Widths (pt) of a table's columns so that it fits ``available_pt``, or None if even its
    narrowest layout (every cell broken at spaces) does not fit.

    Each column gets at least its longest word; what is left is shared in proportion to how
    much wider each column's longest cell is.
    """
    n = max(len(row) for row in cells)
    natural = [max((width(r[i]) for r in cells if i < len(r)), default=0.0) for i in range(n)]
    narrow = [max((width(w) for r in cells if i < len(r) for w in r[i].split(" ")), default=0.0)
              for i in range(n)]
    room = available_pt - GAP_PT * (n - 1)
    if sum(narrow) > room:
        return None
    if sum(natural) <= room:
        return natural
    extra = [b - a for a, b in zip(narrow, natural, strict=True)]
    share = (room - sum(narrow)) / sum(extra)
    return [a + e * share for a, e in zip(narrow, extra, strict=True)]


def split_columns(headers: Sequence[str], rows: Sequence[Sequence[str]], keys: int,
                  available_pt: float, width: Callable[[str], float]
                  ) -> list[tuple[list[int], list[float]]]:
    """Column groups of a table too wide for the page, each repeating the first ``keys``
    columns: (column indices, widths in pt)."""
    cells = [list(headers), *map(list, rows)]
    groups: list[tuple[list[int], list[float]]] = []
    rest = list(range(keys, len(headers)))
    while rest:
        take = len(rest)
        while take > 1:
            columns = [*range(keys), *rest[:take]]
            widths = column_widths([[r[i] for i in columns] for r in cells], available_pt, width)
            if widths is not None:
                break
            take -= 1
        columns = [*range(keys), *rest[:take]]
        widths = column_widths([[r[i] for i in columns] for r in cells], available_pt, width)
        groups.append((columns, widths or [available_pt / len(columns)] * len(columns)))
        rest = rest[take:]
    return groups


class PdfDocument:
    """A PDF laid out as a document: A4 pages, a title, text, tables that fit the page width
    (cells wrapped; a table too wide even then split into column groups that repeat its key
    columns) and continue on the next page with their header, and figures, each on a page.

    Args:
        title: the document's title (on each page, with the page number).
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.pages: list[Figure] = []
        self.width = _Widths(FONT_PT)
        self.bold = _Widths(FONT_PT, "bold")
        self._width_pt = (PAGE_IN[0] - 2 * MARGIN_IN) * 72.0
        self._y = 0.0  # pt from the top of the current page
        self._new_page()

    def _new_page(self) -> None:
        fig = Figure(figsize=PAGE_IN)
        FigureCanvasAgg(fig)
        self.pages.append(fig)
        fig.text(MARGIN_IN / PAGE_IN[0], 1 - 0.35 / PAGE_IN[1],
                 f"{self.title} · page {len(self.pages)}", fontsize=FONT_PT, color="0.4",
                 va="top")
        self._y = MARGIN_IN * 72.0

    def _room_pt(self) -> float:
        return (PAGE_IN[1] - MARGIN_IN) * 72.0 - self._y

    def _put(self, x_pt: float, lines: Sequence[str], size: float = FONT_PT,
             weight: str = "normal", y_pt: float | None = None) -> None:
        """Lines of text at ``x_pt`` from the left margin and ``y_pt`` (default: the cursor)
        from the top, :data:`LINE_PT` apart (body size)."""
        fig = self.pages[-1]
        fig.text(MARGIN_IN / PAGE_IN[0] + x_pt / (PAGE_IN[0] * 72.0),
                 1 - (self._y if y_pt is None else y_pt) / (PAGE_IN[1] * 72.0),
                 "\n".join(lines), fontsize=size, weight=weight, va="top", ha="left",
                 linespacing=LINE_PT / self.width.line_pitch_pt)

    def heading(self, text: str, size: float = 11.0) -> None:
        """A heading (on a new page if fewer than five lines are left on this one)."""
        lines = _Widths(size, "bold").wrap(text, self._width_pt)
        if self._room_pt() < 5 * LINE_PT + size * len(lines):
            self._new_page()
        self._y += 0.6 * size
        self._put(0.0, lines, size, "bold")
        self._y += 1.6 * size * len(lines)

    def pairs(self, rows: Sequence[tuple[str, str]]) -> None:
        """Label and value lines (the header)."""
        self.table(("", ["", ""], [list(r) for r in rows]), header=False)

    def table(self, table: Table, keys: int = 1, header: bool = True) -> None:
        """A table: its title, then its rows, continued on following pages as needed."""
        title, headers, rows = table
        body = [list(r) for r in rows] or [["none", *[""] * (len(headers) - 1)]]
        for part, (columns, widths) in enumerate(split_columns(
                headers, body, keys, self._width_pt, self.bold)):
            if title:
                self.heading(title + (f" (columns, part {part + 1})" if part else ""))
            x = np.concatenate(([0.0], np.cumsum(np.add(widths, GAP_PT))))[:-1]
            wrapped_header = [self.bold.wrap(headers[i], w) for i, w in zip(columns, widths,
                                                                           strict=True)]
            if header:
                self._header(x, wrapped_header)
            # one text per column and page (thousands of cell texts make a slow PDF): the
            # rows' cells padded with empty lines to the row's height keep the columns aligned
            page: list[list[str]] = [[] for _ in columns]
            top = self._y
            for row in body:
                cells = [self.width.wrap(row[i], w) for i, w in zip(columns, widths, strict=True)]
                lines = max(len(c) for c in cells)
                if lines * LINE_PT > self._room_pt():
                    self._columns(x, page, top)
                    self._new_page()
                    if header:
                        self._header(x, wrapped_header)
                    page, top = [[] for _ in columns], self._y
                for column, cell in zip(page, cells, strict=True):
                    column += cell + [""] * (lines - len(cell))
                self._y += lines * LINE_PT
            self._columns(x, page, top)
            self._y += LINE_PT

    def _columns(self, x: FloatVector, columns: list[list[str]], top_pt: float) -> None:
        """Draw the columns' lines from ``top_pt`` down."""
        for left, lines in zip(x, columns, strict=True):
            if any(lines):
                self._put(float(left), lines, y_pt=top_pt)

    def _header(self, x: FloatVector, cells: list[list[str]]) -> None:
        height = max(len(c) for c in cells) * LINE_PT
        if height + 2 * LINE_PT > self._room_pt():
            self._new_page()
        for left, lines in zip(x, cells, strict=True):
            self._put(float(left), lines, weight="bold")
        self._y += height
        fig = self.pages[-1]
        y = 1 - (self._y + 1.0) / (PAGE_IN[1] * 72.0)
        x0 = MARGIN_IN / PAGE_IN[0]
        fig.add_artist(Line2D([x0, 1 - x0], [y, y], color="0.5", lw=0.5))
        self._y += 3.0

    def figure(self, caption: str, fig: Figure) -> None:
        """A figure on an A4 page of its own (laid out again for the page), with its caption."""
        fig.set_size_inches(*PAGE_IN)
        engine = fig.get_layout_engine()
        if isinstance(engine, ConstrainedLayoutEngine):  # page margins around the plots
            engine.set(w_pad=MARGIN_IN, h_pad=MARGIN_IN / 2)
        fig.suptitle("\n".join(self.width.wrap(caption, self._width_pt)), fontsize=FONT_PT)
        self.pages.append(fig)

    def save(self, out_path: Path) -> None:
        """Write the pages as one PDF."""
        with PdfPages(out_path, metadata={"Title": self.title}) as pdf:
            for page in self.pages:
                pdf.savefig(page)


def pdf_document(title: str, header: Sequence[tuple[str, str]],
                 figures: Sequence[tuple[str, Figure]], tables: Sequence[Table],
                 keys: Mapping[str, int] | None = None) -> PdfDocument:
    """The report laid out: title and header, the tables, then the figures (a page each).
    ``keys``: per table title, how many leading columns identify a row (repeated when a wide
    table is split; default 1)."""
    doc = PdfDocument(title)
    doc.heading(title, 14.0)
    doc.pairs(header)
    for table in tables:
        doc.table(table, (keys or {}).get(table[0], 1))
    for caption, fig in figures:
        doc.figure(caption, fig)
    return doc


def write_pdf_document(out_path: Path, title: str, header: Sequence[tuple[str, str]],
                        figures: Sequence[tuple[str, Figure]], tables: Sequence[Table]) -> None:
    """A PDF: header, tables (as many pages as they need), then the figures."""
    pdf_document(title, header, figures, tables, {"Strides": 2}).save(out_path)
