"""Numbers as a stakeholder reads them on the map."""

from __future__ import annotations

import math

import pytest

from maps import format as fmt


@pytest.mark.parametrize(
    ("formatter", "value", "expected"),
    [
        (fmt.km, 1234.4, "1,234 km"),
        (fmt.km, 9.84, "9.8 km"),
        (fmt.usd, 12_345_678, "USD 12.3 M"),
        (fmt.usd, 2_500_000_000, "USD 2.50 B"),
        (fmt.usd, 310_000, "USD 310,000"),
        (fmt.usd, 28.49, "USD 28.49"),
        (fmt.share, 0.724, "72%"),
        (fmt.share, 0.004, "0.4%"),
        (fmt.share, 1, "100%"),
        (fmt.ms, 0.91, "0.91 ms"),
        (fmt.ms, 27.04, "27.0 ms"),
        (fmt.count, 433_400, "433,400"),
        (fmt.number, 0.1234, "0.123"),
        (fmt.number, 2_402_598.0, "2,402,598"),
    ],
)
def test_formats(formatter: object, value: object, expected: str) -> None:
    assert formatter(value) == expected  # type: ignore[operator]


@pytest.mark.parametrize("missing", [None, math.nan, "n/a", True, math.inf])
@pytest.mark.parametrize("formatter", [fmt.km, fmt.usd, fmt.share, fmt.ms, fmt.count, fmt.number])
def test_missing_values_read_as_a_dash(formatter: object, missing: object) -> None:
    assert formatter(missing) == fmt.MISSING  # type: ignore[operator]
