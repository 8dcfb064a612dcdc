"""Receive one uploaded file, streamed to a server-named file under a size cap.

The request body is read chunk by chunk from the ASGI stream and fed to python-multipart's
streaming parser; file bytes go straight to disk and nothing is buffered whole. The cap
holds three ways: a ``Content-Length`` over it is refused before any byte is read, the
file part is refused as soon as it passes it, and the whole body (file plus form fields)
may exceed it by at most :data:`FORM_OVERHEAD_BYTES`, which also bounds chunked bodies
without a length. Every refusal is a :class:`~layers.errors.LimitExceededError` (413)
naming ``TRAZO_MAX_UPLOAD_BYTES``.

The file is written as ``<private temporary folder>/<stem><suffix>``: the folder is
server-named, the suffix (which chooses the reader) must be one Trazo reads, and the stem
is the client's file stem reduced to ``[a-z0-9_]`` (kept so that the catalog's ``source``
and the default layer name follow the user's file, as ``trazo layers load`` does). The
client's name is never used as a path.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from layers.errors import LayerValidationError, LimitExceededError, disk_full_as_error
from layers.ingest import default_layer_name
from layers.read import DATASET_SUFFIXES
from layers.workdirs import make_workdir

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

logger = logging.getLogger("trazo.api")

UPLOAD_SUFFIXES = frozenset(DATASET_SUFFIXES | {".zip", ".kmz"})
"""File suffixes an upload may have: what the loader reads, and zip archives of those."""
FORM_OVERHEAD_BYTES = 64 * 1024
"""What a body may carry beyond the file: boundaries, part headers, the text fields."""
MAX_FIELD_BYTES = 1024
MAX_PARTS = 8
_SPLIT = re.compile(r"[\\/]")


@dataclass
class Upload:
    """A received form: the file on disk, its client name and the text fields."""

    path: Path | None = None
    client_name: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


def _mib(size: int) -> str:
    return f"{size / 1024**2:.1f} MiB" if size >= 1024**2 else f"{size:,} bytes"


def _too_large(limit: int, what: str) -> LimitExceededError:
    return LimitExceededError(
        f"{what} is larger than the {_mib(limit)} this service accepts "
        "(TRAZO_MAX_UPLOAD_BYTES); load big files with `trazo layers load` on the server, "
        "or split them"
    )


def server_file_name(client_name: str) -> str:
    """The name the upload is stored under: a sanitised stem and a supported suffix.

    Examples
    --------
    >>> server_file_name("../../etc/Municipios Tabasco.GeoJSON")
    'municipios_tabasco.geojson'
    >>> server_file_name("C:\\\\Users\\\\x\\\\red.zip")
    'red.zip'
    """
    base = _SPLIT.split(client_name)[-1]
    stem, dot, suffix = base.rpartition(".")
    suffix = f".{suffix.lower()}"
    if not dot or suffix not in UPLOAD_SUFFIXES:
        known = ", ".join(sorted(UPLOAD_SUFFIXES))
        shapefile = " (zip a shapefile's .shp, .shx and .dbf together)" if suffix == ".shp" else ""
        raise LayerValidationError(
            f"cannot tell the format of {base[:80]!r} from its name{shapefile}; "
            f"upload a file ending in one of: {known}"
        )
    safe_stem = default_layer_name(stem or "upload")[:63] or "upload"
    return f"{safe_stem}{suffix}"


class _Form:
    """python-multipart callbacks that write the file part to ``folder`` as it arrives."""

    def __init__(self, folder: Path, max_file_bytes: int, file_field: str) -> None:
        self.folder = folder
        self.max_file_bytes = max_file_bytes
        self.file_field = file_field
        self.upload = Upload()
        self.ended = False
        self._parts = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._field: str | None = None
        self._text = bytearray()
        self._file: IO[bytes] | None = None
        self._file_bytes = 0

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_part,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise LayerValidationError(
                f"the form has more than {MAX_PARTS} parts; send file, kind and name only"
            )
        self._disposition = b""
        self._field = None
        self._text = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = b""
        self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise LayerValidationError(
                "a form part has no name in its Content-Disposition header; send the fields "
                "file, kind and name as multipart/form-data"
            )
        self._field = options[b"name"].decode("utf-8", "replace")
        if b"filename" not in options:
            return
        if self._field != self.file_field or self.upload.path is not None:
            raise LayerValidationError(
                f"send exactly one file, in the form field {self.file_field!r}"
            )
        client_name = options[b"filename"].decode("utf-8", "replace")
        path = self.folder / server_file_name(client_name)
        self.upload.client_name = _SPLIT.split(client_name)[-1][:255]
        self.upload.path = path
        self._file = path.open("xb")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._file is not None:
            self._file_bytes += len(chunk)
            if self._file_bytes > self.max_file_bytes:
                raise _too_large(self.max_file_bytes, "the uploaded file")
            self._file.write(chunk)
            return
        if len(self._text) + len(chunk) > MAX_FIELD_BYTES:
            raise LayerValidationError(
                f"form field {self._field!r} is longer than {MAX_FIELD_BYTES} bytes"
            )
        self._text += chunk

    def _part_end(self) -> None:
        if self._file is not None:
            self.close()
            return
        if self._field is None:
            return
        try:
            self.upload.fields[self._field] = self._text.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise LayerValidationError(f"form field {self._field!r} is not UTF-8 text") from None

    def _end(self) -> None:
        self.ended = True


def _boundary(request: Request) -> bytes:
    media, options = parse_options_header(request.headers.get("content-type", ""))
    if media != b"multipart/form-data" or not options.get(b"boundary"):
        raise LayerValidationError(
            "send the layer as multipart/form-data with the fields file, kind and name "
            "(e.g. curl -F file=@roads.geojson -F kind=rights_of_way)"
        )
    return options[b"boundary"]


def _check_length(request: Request, max_body: int, max_file: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise _too_large(max_file, f"the upload ({_mib(int(declared))})")


@asynccontextmanager
async def receive_upload(
    request: Request, *, max_bytes: int, file_field: str = "file"
) -> AsyncIterator[Upload]:
    """Stream a multipart upload to a private folder; yield it, then remove the folder.

    Parameters
    ----------
    request
        The request whose body is the multipart form; its body must not have been read.
    max_bytes
        The cap on the file (``TRAZO_MAX_UPLOAD_BYTES``); the body may exceed it by
        :data:`FORM_OVERHEAD_BYTES`.
    file_field
        The form field carrying the file.

    Raises
    ------
    LimitExceededError
        The upload is over the cap (declared or while streaming).
    LayerValidationError
        Not multipart, malformed, truncated, several files, a name without a supported
        suffix, oversize text fields.
    """
    boundary = _boundary(request)
    max_body = max_bytes + FORM_OVERHEAD_BYTES
    _check_length(request, max_body, max_bytes)
    folder = make_workdir("trazo-upload-")
    try:
        form = _Form(folder, max_bytes, file_field)
        parser = MultipartParser(boundary, form.callbacks())
        received = 0
        try:
            async for chunk in request.stream():
                received += len(chunk)
                if received > max_body:
                    raise _too_large(max_bytes, "the upload")
                with disk_full_as_error("the upload"):
                    parser.write(chunk)
            parser.finalize()
        except FormParserError:
            raise LayerValidationError(
                "the request body is not valid multipart/form-data; send the fields file, "
                "kind and name as a form"
            ) from None
        except ClientDisconnect:
            raise LayerValidationError("the upload was interrupted; send it again") from None
        finally:
            form.close()
        if not form.ended:
            raise LayerValidationError(
                "the multipart body ended before its closing boundary; send the upload again"
            )
        logger.info("received upload %s (%d bytes)", form.upload.client_name, received)
        yield form.upload
    finally:
        shutil.rmtree(folder, ignore_errors=True)
