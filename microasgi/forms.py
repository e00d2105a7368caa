"""Form bodies and query strings: parsed when first read, within limits that bound memory and time.

A view that never reads ``request.form`` pays nothing for a form body. When it
does, the body (already read, in memory or spooled) is parsed synchronously,
as Flask does: in a ``def`` view that is its worker thread, in an ``async def``
view the event loop, so the work is bounded:

- ``application/x-www-form-urlencoded``: the whole body is text held in memory,
  so it may be at most ``max_memory`` bytes (``MAX_FORM_MEMORY_SIZE``; 413
  before any parsing) with at most ``max_parts`` fields (``MAX_FORM_PARTS``).
  Percent-escapes are decoded by C code (``binascii``), not by a Python loop
  per escape as in :func:`urllib.parse.unquote`, which took ~0.2 s and ~80
  times the body in memory for 500 kB of ``%41``.
- ``multipart/form-data``: parsed in one pass by python-multipart, stopping
  with a 413 as soon as the text parts together pass ``max_memory`` or the
  parts pass ``max_parts``; python-multipart bounds each part's headers. File
  parts go to memory when the whole body was in memory (so they take no more
  than it did), else to temporary files: a form never holds more than about
  twice ``BODY_MEMORY_LIMIT`` plus ``max_memory``.
"""

from __future__ import annotations

import binascii
import io
import logging
import re
import tempfile
from collections.abc import Iterator
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser
from werkzeug.datastructures import FileStorage, Headers, ImmutableMultiDict
from werkzeug.http import parse_options_header

from .exceptions import BadRequest, RequestEntityTooLarge

# python-multipart logs a WARNING for each malformed multipart body it is given,
# then raises; microasgi answers those bodies with a 400, so the warning would
# only let any client write to the server's log at will. Errors still show.
logging.getLogger("python_multipart.multipart").setLevel(logging.ERROR)

CHUNK_SIZE = 64 * 1024
#: More '%' signs that escape nothing than this make a malformed body (a 400):
#: each costs a Python-level step, and no client that encodes its forms sends them.
MAX_STRAY_PERCENT = 1000
_STRAY_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def unquote_plus(raw: bytes) -> bytes:
    """Decode a form-encoded name or value: ``+`` is a space, ``%XX`` a byte.

    A ``%`` that escapes nothing stays as it is, as :func:`urllib.parse.unquote`
    leaves it. Raises :class:`BadRequest` past :data:`MAX_STRAY_PERCENT` of them.
    """
    raw = raw.replace(b"+", b" ")
    percents = raw.count(b"%")
    if not percents:
        return raw
    # Quoted-printable's "=XX" is "%XX" under another name, and binascii decodes
    # it in C. The body's own "=", CR and LF are escaped first, so that they come
    # out as they went in (a2b_qp would read "=\n" as a soft line break).
    prepared = raw.replace(b"=", b"=3D").replace(b"\r", b"=0D").replace(b"\n", b"=0A")
    decoded = binascii.a2b_qp(prepared.replace(b"%", b"="))
    # A '%XX' that was decoded made the text two bytes shorter; anything else a
    # '%' became (a2b_qp's "=" left standing, "==" read as one) shortened it less.
    if len(raw) - len(decoded) == 2 * percents:
        return decoded
    fixed, stray = _STRAY_PERCENT.subn(b"%25", prepared, count=MAX_STRAY_PERCENT + 1)
    if stray > MAX_STRAY_PERCENT:
        raise BadRequest(
            f"The form has more than {MAX_STRAY_PERCENT} '%' signs that are not"
            " percent-escapes: encode them as %25."
        )
    return binascii.a2b_qp(fixed.replace(b"%", b"="))


def parse_qs(raw: bytes, charset: str, max_fields: int | None) -> list[tuple[str, str]]:
    """``a=1&b=2`` as ``[("a", "1"), ("b", "2")]``; blank values kept, empty pieces skipped.

    Past ``max_fields`` fields, :class:`RequestEntityTooLarge` (the caller may
    answer with another error). Bytes that are not ``charset`` are replaced.
    """
    if not raw:
        return []
    if max_fields is not None and raw.count(b"&") >= max_fields:
        fields = sum(1 for piece in raw.split(b"&") if piece)
        if fields > max_fields:
            raise RequestEntityTooLarge(f"Too many fields (the limit is {max_fields}).")
    pairs = []
    for piece in raw.split(b"&"):
        if not piece:
            continue
        name, _, value = piece.partition(b"=")
        pairs.append(
            (
                unquote_plus(name).decode(charset, "replace"),
                unquote_plus(value).decode(charset, "replace"),
            )
        )
    return pairs


def parse_query(query: bytes, max_fields: int | None = None) -> ImmutableMultiDict[str, str]:
    """A query string's fields (raw non-ASCII bytes are read as UTF-8, as browsers send them).

    Past ``max_fields`` fields, a :class:`BadRequest` (``MAX_QUERY_FIELDS``).
    """
    try:
        return ImmutableMultiDict(parse_qs(query, "utf-8", max_fields))
    except RequestEntityTooLarge:
        raise BadRequest(f"Too many query fields (the limit is {max_fields}).") from None


def parse_form(
    body: bytes | IO[bytes],
    mimetype: str,
    boundary: str | None,
    charset: str,
    *,
    max_memory: int | None,
    max_parts: int | None,
) -> tuple[ImmutableMultiDict[str, str], ImmutableMultiDict[str, FileStorage]]:
    """The fields and files of a form ``body``: bytes, or a binary file (a spooled body).

    ``boundary`` is the multipart boundary; ``charset`` a codec name for the text.
    Raises :class:`RequestEntityTooLarge` past a limit and :class:`BadRequest`
    for a malformed body; other content types give two empty dicts.
    """
    if mimetype == "application/x-www-form-urlencoded":
        if isinstance(body, bytes):
            size = len(body)
        else:
            size = body.seek(0, io.SEEK_END)
            body.seek(0)
        if max_memory is not None and size > max_memory:
            raise RequestEntityTooLarge(
                f"The form is {size} bytes; the limit is {max_memory} (MAX_FORM_MEMORY_SIZE)."
            )
        raw = body if isinstance(body, bytes) else body.read()
        return ImmutableMultiDict(parse_qs(raw, charset, max_parts)), ImmutableMultiDict()
    if mimetype == "multipart/form-data":
        if not boundary:
            raise BadRequest("The multipart body has no boundary in its Content-Type.")
        form = _MultipartForm(charset, max_memory, max_parts, in_memory=isinstance(body, bytes))
        form.parse(boundary.encode("latin-1", "replace"), _chunks(body))
        return ImmutableMultiDict(form.fields), ImmutableMultiDict(form.files)
    return ImmutableMultiDict(), ImmutableMultiDict()


def _chunks(body: bytes | IO[bytes]) -> Iterator[bytes]:
    if isinstance(body, bytes):
        yield body
        return
    body.seek(0)
    while chunk := body.read(CHUNK_SIZE):
        yield chunk
    body.seek(0)


class _MultipartForm:
    """python-multipart's callbacks, collecting one form's fields and files within limits."""

    def __init__(
        self, charset: str, max_memory: int | None, max_parts: int | None, in_memory: bool
    ) -> None:
        self.charset = charset
        self.max_memory = max_memory
        self.max_parts = max_parts
        self.in_memory = in_memory
        self.fields: list[tuple[str, str]] = []
        self.files: list[tuple[str, FileStorage]] = []
        self.parts = 0
        self.text_size = 0
        self.ended = False
        self._header_name = b""
        self._header_value = b""
        self._headers: list[tuple[str, str]] = []
        self._name = ""
        self._text: list[bytes] | None = None  # a text part's pieces
        self._file: FileStorage | None = None  # or the file part being written

    def parse(self, boundary: bytes, chunks: Iterator[bytes]) -> None:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )
        try:
            for chunk in chunks:
                parser.write(chunk)
            parser.finalize()
            if not self.ended:
                raise BadRequest("The multipart body is truncated.")
        except BaseException as exc:
            self.close()
            if isinstance(exc, FormParserError):
                raise BadRequest(f"The multipart body is malformed: {exc}") from None
            raise

    def close(self) -> None:
        for _, storage in self.files:
            storage.close()
        if self._file is not None:
            self._file.close()

    # -- python-multipart's callbacks ----------------------------------------------

    def _part_begin(self) -> None:
        self._headers = []
        self._text = None
        self._file = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        # Browsers send file names as raw UTF-8.
        name = self._header_name.decode("latin-1")
        self._headers.append((name, self._header_value.decode("utf-8", "replace")))
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        self.parts += 1
        if self.max_parts is not None and self.parts > self.max_parts:
            raise RequestEntityTooLarge(
                f"The form has more than {self.max_parts} parts (MAX_FORM_PARTS)."
            )
        headers = Headers(self._headers)
        disposition, params = parse_options_header(headers.get("Content-Disposition"))
        if disposition != "form-data" or "name" not in params:
            raise BadRequest("A multipart part has no Content-Disposition: form-data; name=...")
        self._name = params["name"]
        filename = params.get("filename")
        if filename is None:
            self._text = []
            return
        # Closed with the request (Request.close), or by close() on an error.
        stream: IO[bytes] = io.BytesIO() if self.in_memory else tempfile.TemporaryFile()  # noqa: SIM115
        self._file = FileStorage(
            stream, filename, self._name, headers.get("Content-Type"), headers=headers
        )

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self._file.stream.write(data[start:end])
            return
        assert self._text is not None
        self.text_size += end - start
        if self.max_memory is not None and self.text_size > self.max_memory:
            raise RequestEntityTooLarge(
                f"The form's text is more than {self.max_memory} bytes (MAX_FORM_MEMORY_SIZE)."
            )
        self._text.append(data[start:end])

    def _part_end(self) -> None:
        if self._file is not None:
            self._file.stream.seek(0)
            self.files.append((self._name, self._file))
            self._file = None
        elif self._text is not None:
            self.fields.append((self._name, b"".join(self._text).decode(self.charset, "replace")))
            self._text = None

    def _end(self) -> None:
        self.ended = True
