"""The API definition the service serves: an OpenAPI 3.0.3 document.

OGC API – Features Part 1 defines its ``oas30`` conformance class, the landing page's
``service-desc`` link type (``application/vnd.oai.openapi+json;version=3.0``) and the
parameter shapes GIS clients read (QGIS takes its page size from
``components/parameters/limit``) in terms of OpenAPI 3.0. FastAPI writes 3.1, whose JSON
Schema dialect 3.0 readers refuse (``anyOf`` with ``type: null``, ``examples`` arrays in
schemas, ``const``, numeric ``exclusiveMinimum``); :func:`to_openapi30` rewrites those
constructs into their 3.0 equivalents, so the document is valid 3.0 rather than 3.1
relabelled.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api._ogc import parameter_components
from api.settings import ServiceSettings

OPENAPI_VERSION = "3.0.3"
_NULL = {"type": "null"}


def openapi_document(app: FastAPI, settings: ServiceSettings) -> dict[str, Any]:
    """The service's API definition as OpenAPI 3.0.3, with the OGC query parameters."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description or app.summary,
        routes=app.routes,
    )
    document = to_openapi30(document)
    components = document.setdefault("components", {})
    components.setdefault("parameters", {}).update(
        parameter_components(settings.default_items_per_page, settings.max_items_per_page)
    )
    return document


def to_openapi30(document: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a FastAPI (OpenAPI 3.1) document as OpenAPI 3.0.3.

    Examples
    --------
    >>> doc = to_openapi30({"openapi": "3.1.0", "paths": {}, "components": {"schemas": {"A": {
    ...     "anyOf": [{"type": "integer"}, {"type": "null"}], "examples": [3]}}}})
    >>> doc["openapi"], doc["components"]["schemas"]["A"] == {
    ...     "type": "integer", "nullable": True, "example": 3}
    ('3.0.3', True)
    """
    converted = {key: value for key, value in document.items() if key != "webhooks"}
    converted.pop("jsonSchemaDialect", None)
    converted["openapi"] = OPENAPI_VERSION
    info = dict(converted.get("info") or {})
    summary = info.pop("summary", None)
    if summary and not info.get("description"):
        info["description"] = summary
    if "license" in info:
        info["license"] = {k: v for k, v in info["license"].items() if k != "identifier"}
    if info:
        converted["info"] = info
    if "paths" in converted:
        converted["paths"] = {
            path: _walk_operations(item) for path, item in converted["paths"].items()
        }
    components = converted.get("components")
    if isinstance(components, dict):
        components = dict(components)
        if "schemas" in components:
            components["schemas"] = {
                name: _schema(schema) for name, schema in components["schemas"].items()
            }
        converted["components"] = components
    return converted


def _walk_operations(node: Any) -> Any:
    """Find the schema objects below a path item (parameters, bodies, responses)."""
    if isinstance(node, list):
        return [_walk_operations(item) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "schema" and isinstance(value, dict):
            result[key] = _schema(value)
        else:
            result[key] = _walk_operations(value)
    return result


def _schema(schema: Any) -> Any:
    """One JSON Schema (2020-12, as 3.1 uses) as a 3.0 Schema Object."""
    if isinstance(schema, list):
        return [_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "$defs"):
            result[key] = {name: _schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            result[key] = _schema(value)
        elif key in ("anyOf", "oneOf", "allOf"):
            result[key] = [_schema(sub) for sub in value]
        elif key == "examples" and isinstance(value, list):
            if value:
                result["example"] = value[0]
        elif key == "const":
            result["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            result["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            result[key] = True
        elif key in ("contentMediaType", "contentEncoding"):
            result["format"] = "binary"
        elif key == "type" and isinstance(value, list):
            kinds = [kind for kind in value if kind != "null"]
            if len(kinds) == 1:
                result["type"] = kinds[0]
            if len(kinds) < len(value):
                result["nullable"] = True
        else:
            result[key] = value
    return _nullable(result)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, {type: null}]`` as 3.0 says it: X with ``nullable: true``."""
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if not isinstance(options, list) or _NULL not in options:
            continue
        rest = [option for option in options if option != _NULL]
        merged = {k: v for k, v in schema.items() if k != key}
        merged["nullable"] = True
        if len(rest) == 1 and "$ref" in rest[0]:
            # 3.0 ignores siblings of $ref: wrap it so nullable counts.
            merged["allOf"] = rest
        elif len(rest) == 1:
            merged = {**rest[0], **merged}
        else:
            merged[key] = rest
        return merged
    return schema
