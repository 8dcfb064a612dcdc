"""PostgreSQL store locations: ``postgresql://user:password@host:port/db?schema=name``.

How a location string names a PostGIS store, which schema it uses, and how to show it
without its password; the store (:mod:`layers.store_postgis`) and the store factory
(:mod:`layers.stores`) both read locations through here, without importing psycopg.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from layers.errors import LayerValidationError

DEFAULT_SCHEMA = "trazo"
POSTGRES_SCHEMES = ("postgresql", "postgres")

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_postgres_location(location: str | Path) -> bool:
    """Whether ``location`` names a PostgreSQL database (``postgresql://…``, ``postgres://…``)."""
    text = str(location)
    return any(text.startswith(f"{scheme}:") for scheme in POSTGRES_SCHEMES)


def split_location(location: str) -> tuple[str, str]:
    """Split a store URL into the libpq connection URL and the schema (``?schema=``).

    Examples
    --------
    >>> split_location("postgresql://planner@db:5432/gis?schema=team&sslmode=require")
    ('postgresql://planner@db:5432/gis?sslmode=require', 'team')
    >>> split_location("postgresql:///gis?host=/var/run/postgresql")
    ('postgresql:///gis?host=%2Fvar%2Frun%2Fpostgresql', 'trazo')
    """
    parts = urlsplit(location)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise LayerValidationError(
            f"store {redact(location)!r} is not a PostgreSQL URL (postgresql://user@host/db)"
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for key, value in query if key == "schema"]
    schema = schemas[-1] if schemas else DEFAULT_SCHEMA
    if not _SCHEMA_RE.fullmatch(schema):
        raise LayerValidationError(
            f"schema {schema[:80]!r} is not allowed: use lower-case letters, digits and "
            "underscores, a letter or underscore first (e.g. ?schema=trazo)"
        )
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return _unsplit(parts.scheme, parts.netloc, parts.path, rest), schema


def _unsplit(scheme: str, netloc: str, path: str, query: str) -> str:
    # urlunsplit drops an empty host ("postgresql:///db", a Unix socket): libpq needs "//".
    return f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")


def redact(location: str) -> str:
    """``location`` without its password, for messages and logs.

    Examples
    --------
    >>> redact("postgresql://planner:s3cret@db/gis?schema=team")
    'postgresql://planner@db/gis?schema=team'
    """
    parts = urlsplit(location)
    if parts.password is None:
        return location
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return _unsplit(parts.scheme, f"{user}@{host}", parts.path, parts.query)
