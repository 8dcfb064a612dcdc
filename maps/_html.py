"""HTML fragments for popups, legends and panels, built only from escaped text.

Every value that came from a layer or a proposal passes through :func:`esc` here, so the
strings these helpers return are safe to hand to Leaflet (which sets ``innerHTML``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from maps.format import MISSING


def esc(value: object) -> str:
    """Escape any value for HTML text or attributes; missing values become a dash.

    Examples
    --------
    >>> esc("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> esc(None)
    '—'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return html.escape(str(value), quote=True)


def popup(title: object, rows: Iterable[tuple[str, object]]) -> str:
    """A popup: a bold title over a two-column table; rows with a missing value are left out.

    Values are shown as text: pass formatted strings or plain values, never HTML.
    """
    cells = "".join(
        f"<tr><th>{esc(label)}</th><td>{esc(value)}</td></tr>"
        for label, value in rows
        if value is not None and value != MISSING and value != ""
    )
    return f'<div class="trazo-popup"><b>{esc(title)}</b><table>{cells}</table></div>'


def is_missing(value: object) -> bool:
    """True for ``None``, NaN and pandas' missing markers."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NA compare unequal to themselves
    except (TypeError, ValueError):
        return False


@dataclass
class Legend:
    """The legend box: titled sections of swatches, then the data sources."""

    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def section(self, title: str, items: list[str]) -> None:
        """Add a section (``items`` from the ``*_item`` helpers) unless it is empty."""
        if items:
            self.sections.append((title, items))

    def note(self, text: str) -> None:
        """Add a line of plain text under the sections."""
        self.notes.append(text)

    def source(self, text: str) -> None:
        """Credit a data source once."""
        if text and text not in self.sources:
            self.sources.append(text)

    def html(self) -> str:
        """Render the legend; every label is escaped."""
        parts = ['<div class="trazo-legend">']
        for title, items in self.sections:
            parts.append(f"<h4>{esc(title)}</h4>{''.join(items)}")
        parts.extend(f'<div class="trazo-note">{esc(note)}</div>' for note in self.notes)
        if self.sources:
            credits = "".join(f"<li>{esc(source)}</li>" for source in self.sources)
            parts.append(f'<h4>Sources</h4><ul class="trazo-sources">{credits}</ul>')
        parts.append("</div>")
        return "".join(parts)


def fill_item(color: str, label: str) -> str:
    """A legend row with a filled square."""
    return f'<div class="trazo-item"><i style="background:{esc(color)}"></i>{esc(label)}</div>'


def line_item(color: str, label: str, *, dash: str | None = None, weight: float = 3) -> str:
    """A legend row with a short line in the given color and dash pattern."""
    dash_attr = f' stroke-dasharray="{esc(dash)}"' if dash else ""
    svg = (
        '<svg width="34" height="10"><line x1="1" y1="5" x2="33" y2="5" '
        f'stroke="{esc(color)}" stroke-width="{weight}"{dash_attr}/></svg>'
    )
    return f'<div class="trazo-item">{svg}{esc(label)}</div>'


def symbol_item(svg: str, label: str) -> str:
    """A legend row with a trusted SVG symbol (built by this package, not from data)."""
    return f'<div class="trazo-item">{svg}{esc(label)}</div>'
