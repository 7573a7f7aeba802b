"""Tables that fit the terminal: columns are left out, least important first, rather than
an optimizer's name or a number being cut; the caption says which were left out.

Rich wraps a cell at its spaces, so a name or a number (one word) keeps its width as
long as its column is at least as wide as its longest word. Rich's own squeezing does
not promise that, so a table too wide for the terminal is laid out here: every column
gets its longest word, the room left goes to the columns that need the least more to
show their lines whole, and when even the longest words do not fit, the least
important column goes. rich is imported when a table is built.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from typing import Any

from rich.measure import Measurement
from rich.table import Table


class FitTable(Table):
    """A :class:`rich.table.Table` whose ``optional`` columns (headers, the first to go
    first) are left out when the table would not fit its width otherwise."""

    def __init__(self, *args: Any, optional: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.optional = list(optional)

    def fitted(self, console: Any, options: Any) -> tuple[Table, list[str]]:
        """This table laid out for ``options.max_width``, and the headers left out."""
        table, left_out = self, []
        optional = list(self.optional)
        while True:
            ranges = _column_ranges(table, console, options)
            extra = _extra_width(table)
            if sum(hi for _, hi in ranges) + extra <= options.max_width:
                return table, left_out  # Rich's natural layout cuts nothing
            if sum(lo for lo, _ in ranges) + extra <= options.max_width or not optional:
                return _with_widths(table, ranges, options.max_width - extra), left_out
            header = optional.pop(0)
            kept = [c for c in table.columns if str(c.header) != header]
            if len(kept) < len(table.columns):
                table = copy.copy(table)
                table.columns = [dataclasses.replace(c, _index=i) for i, c in enumerate(kept)]
                left_out.append(header)

    def __rich_console__(self, console: Any, options: Any):
        table, left_out = self.fitted(console, options)
        if left_out:
            if table is self:
                table = copy.copy(table)
            note = f"left out to fit {options.max_width} columns: {', '.join(left_out)}"
            table.caption = f"{table.caption}\n{note}" if table.caption else note
            table.caption_justify = "left"
        yield from Table.__rich_console__(table, console, options)


FOLD_MINIMUM = 16  # a column that may fold its words (a formula) needs no more than this


def _column_ranges(table: Table, console: Any, options: Any) -> list[tuple[int, int]]:
    """Per column (content width): its longest word (at most :data:`FOLD_MINIMUM` for a
    column whose overflow is "fold") and its longest line."""
    wide = options.update_width(10**6)
    out = []
    for column in table.columns:
        cells = [column.header, *column.cells]
        sizes = [Measurement.get(console, wide, cell) for cell in cells]
        lo, hi = max(m.minimum for m in sizes), max(m.maximum for m in sizes)
        out.append((min(lo, FOLD_MINIMUM) if column.overflow == "fold" else lo, hi))
    return out


def _extra_width(table: Table) -> int:
    """Padding and borders around the columns' contents."""
    _, right, _, left = table.padding
    n = len(table.columns)
    pads = sum((left if i or table.pad_edge else 0) + (right if i < n - 1 or table.pad_edge else 0)
               for i in range(n))
    borders = (max(0, n - 1) + (2 if table.show_edge else 0)) if table.box is not None else 0
    return pads + borders


def _with_widths(table: Table, ranges: list[tuple[int, int]], room: int) -> Table:
    """A copy with fixed column widths: each its longest word, then the room left to the
    columns needing the least more to show every line whole."""
    widths = [lo for lo, _ in ranges]
    spare = room - sum(widths)
    for i in sorted(range(len(ranges)), key=lambda i: ranges[i][1] - ranges[i][0]):
        grow = min(spare, ranges[i][1] - widths[i])
        widths[i] += max(0, grow)
        spare -= max(0, grow)
    out = copy.copy(table)
    out.columns = [dataclasses.replace(c, width=w) for c, w in zip(table.columns, widths)]
    return out
