"""How numbers read on a map: "1,234 km", "USD 12.3 M", "72%".

Every function takes ``None`` (or NaN) and returns :data:`MISSING`, so a summary built
from a proposal with a missing metric still renders.
"""

from __future__ import annotations

import math

MISSING = "—"


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def km(value: object) -> str:
    """Format a length in kilometres.

    Examples
    --------
    >>> km(1234.4)
    '1,234 km'
    >>> km(3.25)
    '3.2 km'
    >>> km(None)
    '—'
    """
    number = _number(value)
    if number is None:
        return MISSING
    return f"{number:,.1f} km" if abs(number) < 10 else f"{number:,.0f} km"


def usd(value: object) -> str:
    """Format an amount of US dollars, in millions or billions when large.

    Examples
    --------
    >>> usd(12_345_678)
    'USD 12.3 M'
    >>> usd(2_500_000_000)
    'USD 2.50 B'
    >>> usd(48.5)
    'USD 48.50'
    >>> usd(56_789)
    'USD 56,789'
    """
    number = _number(value)
    if number is None:
        return MISSING
    size = abs(number)
    if size >= 1e9:
        return f"USD {number / 1e9:,.2f} B"
    if size >= 1e6:
        return f"USD {number / 1e6:,.1f} M"
    if size >= 100:
        return f"USD {number:,.0f}"
    return f"USD {number:,.2f}"


def share(value: object) -> str:
    """Format a fraction between 0 and 1 as a percentage.

    Examples
    --------
    >>> share(0.724)
    '72%'
    >>> share(0.004)
    '0.4%'
    """
    number = _number(value)
    if number is None:
        return MISSING
    percent = number * 100
    return f"{percent:.1f}%" if 0 < abs(percent) < 10 else f"{percent:.0f}%"


def ms(value: object) -> str:
    """Format a latency in milliseconds.

    Examples
    --------
    >>> ms(3.456)
    '3.46 ms'
    >>> ms(27.04)
    '27.0 ms'
    """
    number = _number(value)
    if number is None:
        return MISSING
    return f"{number:.2f} ms" if abs(number) < 10 else f"{number:,.1f} ms"


def count(value: object) -> str:
    """Format a whole number with thousands separators.

    Examples
    --------
    >>> count(1234567)
    '1,234,567'
    """
    number = _number(value)
    if number is None:
        return MISSING
    return f"{round(number):,}"


def number(value: object) -> str:
    """Format any number compactly: whole numbers with separators, others to 3 figures.

    Examples
    --------
    >>> number(1500000.0)
    '1,500,000'
    >>> number(0.1234)
    '0.123'
    """
    parsed = _number(value)
    if parsed is None:
        return MISSING
    if parsed.is_integer() or abs(parsed) >= 1000:
        return f"{round(parsed):,}"
    return f"{parsed:.3g}"
