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
    """The legend box: what the plan proposes, then what exists, then notes and sources.

    Two groups keep proposed and existing things apart, so a reader never has to guess
    which is which: :meth:`proposed` sections come first under "Proposed", then the
    base layers under "Existing" (their line and symbol swatches merged into one list,
    duplicates once), then titled sections such as a choropleth's classes. Other feature
    roles (sites, links, served places) add their own :meth:`proposed` section.
    """

    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    proposed_sections: list[tuple[str, list[str]]] = field(default_factory=list)
    existing_items: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def proposed(self, title: str, items: list[str]) -> None:
        """Add a section of the proposal's symbols (``items`` from the ``*_item`` helpers)."""
        if items:
            self.proposed_sections.append((title, items))

    def existing(self, items: list[str]) -> None:
        """Add base-layer symbols to the one "Existing" list; a symbol already there is skipped."""
        for item in items:
            if item not in self.existing_items:
                self.existing_items.append(item)

    def section(self, title: str, items: list[str]) -> None:
        """Add a titled section after the existing symbols (e.g. choropleth classes)."""
        if items:
            self.sections.append((title, items))

    def note(self, text: str) -> None:
        """Add a line of plain text under the sections."""
        if text not in self.notes:
            self.notes.append(text)

    def source(self, text: str) -> None:
        """Credit a data source once."""
        if text and text not in self.sources:
            self.sources.append(text)

    def html(self) -> str:
        """Render the legend; every label is escaped. Sources fold away (they are long)."""
        parts = ['<div class="trazo-legend">']
        if self.proposed_sections:
            parts.append('<div class="trazo-group trazo-proposed"><h4>Proposed</h4>')
            for title, items in self.proposed_sections:
                parts.append(f"<h5>{esc(title)}</h5>{''.join(items)}")
            parts.append("</div>")
        if self.existing_items:
            parts.append(
                '<div class="trazo-group trazo-existing"><h4>Existing</h4>'
                f"{''.join(self.existing_items)}</div>"
            )
        for title, items in self.sections:
            parts.append(f"<h4>{esc(title)}</h4>{''.join(items)}")
        parts.extend(f'<div class="trazo-note">{esc(note)}</div>' for note in self.notes)
        if self.sources:
            credits = "".join(f"<li>{esc(source)}</li>" for source in self.sources)
            parts.append(
                f'<details class="trazo-sources-box"><summary>Sources ({len(self.sources)})'
                f'</summary><ul class="trazo-sources">{credits}</ul></details>'
            )
        parts.append("</div>")
        return "".join(parts)


def fill_item(color: str, label: str) -> str:
    """A legend row with a filled square."""
    return f'<div class="trazo-item"><i style="background:{esc(color)}"></i>{esc(label)}</div>'


def line_item(
    color: str,
    label: str,
    *,
    dash: str | None = None,
    weight: float = 3,
    casing: str | None = None,
    opacity: float = 1.0,
) -> str:
    """A legend row with a short line in the given color and dash pattern.

    ``casing`` draws a wider line of that color under it, as proposals are drawn.
    """
    dash_attr = f' stroke-dasharray="{esc(dash)}"' if dash else ""
    under = (
        f'<line x1="2" y1="6" x2="32" y2="6" stroke="{esc(casing)}" '
        f'stroke-width="{weight + 3}" stroke-linecap="round"/>'
        if casing
        else ""
    )
    svg = (
        f'<svg width="34" height="12">{under}<line x1="2" y1="6" x2="32" y2="6" '
        f'stroke="{esc(color)}" stroke-width="{weight}" stroke-opacity="{opacity}"'
        f"{dash_attr}/></svg>"
    )
    return f'<div class="trazo-item">{svg}{esc(label)}</div>'


def symbol_item(svg: str, label: str) -> str:
    """A legend row with a trusted SVG symbol (built by this package, not from data)."""
    return f'<div class="trazo-item">{svg}{esc(label)}</div>'
