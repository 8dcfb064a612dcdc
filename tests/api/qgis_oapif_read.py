"""Read one OGC API – Features collection with QGIS's OAPIF provider, headless.

Run by the system Python that Debian's ``python3-qgis`` installs into, not the project's
virtualenv (QGIS's bindings are built for it)::

    /usr/bin/python3 tests/api/qgis_oapif_read.py URL COLLECTION [KEY]

With ``KEY`` the provider sends it as the HTTP Basic password (user name ``qgis``), as
a QGIS 3.22 Basic authentication configuration does. Prints one JSON object: the
feature count QGIS reports, the features it read, their field names, the first
feature's attributes and point, and the seconds the full read took.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    QgsApplication,
    QgsDataSourceUri,
    QgsFeatureRequest,
    QgsVectorLayer,
)


def main(url: str, collection: str, key: str | None) -> dict[str, object]:
    """Open ``collection`` of the service at ``url`` and read every feature."""
    uri = QgsDataSourceUri()
    uri.setParam("url", url)
    uri.setParam("typename", collection)
    if key is not None:
        uri.setUsername("qgis")
        uri.setPassword(key)
    started = time.perf_counter()
    layer = QgsVectorLayer(uri.uri(False), collection, "OAPIF")
    if not layer.isValid():
        return {"valid": False, "error": layer.error().summary()}
    reported = layer.featureCount()
    fields = [field.name() for field in layer.fields()]
    count = 0
    first: dict[str, object] = {}
    for feature in layer.getFeatures(QgsFeatureRequest()):
        if count == 0:
            first = {name: _plain(feature[name]) for name in fields}
            geometry = feature.geometry()
            if not geometry.isNull():
                point = (
                    geometry.asPoint() if geometry.type() == 0 else geometry.centroid().asPoint()
                )
                first["_xy"] = [point.x(), point.y()]
        count += 1
    return {
        "valid": True,
        "reported": reported,
        "read": count,
        "fields": fields,
        "first": first,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isNull") and value.isNull():
        return None
    return str(value)


if __name__ == "__main__":
    application = QgsApplication([], False)
    application.initQgis()
    result = main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    print(json.dumps(result), flush=True)
    # QGIS 3.22 may crash tearing down a provider whose requests were refused (401);
    # the answer is out by then, so leave without the teardown.
    os._exit(0)
