"""What a load did to its input: the validation report returned by every load."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ValidationReport:
    """Counts and findings of validating one input layer.

    ``features_kept = features_read - features_dropped``; repaired features are kept.
    ``bbox`` is (min lon, min lat, max lon, max lat) in EPSG:4326 after reprojection.
    """

    name: str
    kind: str
    source: str
    format: str
    crs_in: str | None
    features_read: int = 0
    features_kept: int = 0
    features_repaired: int = 0
    features_dropped: int = 0
    repair_reasons: dict[str, int] = field(default_factory=dict)
    drop_reasons: dict[str, int] = field(default_factory=dict)
    bbox: tuple[float, float, float, float] | None = None
    warnings: list[str] = field(default_factory=list)
    caveat: str | None = None
    """What the layer stands for when it is not what its kind says (a proxy, an
    assumption); every figure computed from it carries this sentence."""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """Rebuild a report stored with :meth:`to_dict`."""
        values = dict(data)
        if values.get("bbox") is not None:
            values["bbox"] = tuple(values["bbox"])
        return cls(**values)
