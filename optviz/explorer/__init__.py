"""The explorable page: drag the start, slide the learning rate, watch every optimizer move.

>>> from optviz.api import explore
>>> explore("beale", "gd,momentum,adam").save("out")   # out/beale_explore.html

One self-contained HTML file (no network, works from ``file://``) whose
JavaScript recomputes every path with the same update rules as the numpy core
(docs/math.md §11). :func:`explore` takes the options of ``optviz.run`` and
checks them the same way; :func:`optviz.explorer.page.build_page` is the
lower-level builder.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ExplorePage"]


@dataclass(frozen=True)
class ExplorePage:
    """A built page: ``html`` is the whole file; ``save`` writes it atomically."""

    html: str
    name: str

    @property
    def filename(self) -> str:
        from optviz.plot import slug

        return f"{slug(self.name)}_explore.html"

    def save(self, out: str | Path = ".") -> Path:
        """Write the page into the directory ``out`` (or to ``out`` if it names an .html file)."""
        from optviz.io import check_writable_file, ensure_dir, write_text

        out = Path(out).expanduser()
        if out.suffix.lower() in (".html", ".htm"):
            path = check_writable_file(out)
        else:
            path = ensure_dir(out) / self.filename
        return write_text(path, self.html)

    def __repr__(self) -> str:
        return f"ExplorePage({self.name!r}, {len(self.html.encode()) // 1024} KB)"

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{_html.escape(self.html, quote=True)}" title="optviz explore" '
                'style="width:100%;height:900px;border:0" sandbox="allow-scripts"></iframe>')
