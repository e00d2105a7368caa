"""Conditional and range requests (RFC 9110 13 and 14), over Werkzeug's header parsers.

:func:`evaluate` decides, for a GET or HEAD of a representation with a given
validator (``ETag``, ``Last-Modified``) and length, whether to answer 200, 206
(and which bytes), 304 or 412; ``send_file`` and :meth:`Response.make_conditional`
both ask it. The fields are parsed by ``werkzeug.http`` (ETags, dates, ranges);
the precedence is RFC 9110's (13.2.2): ``If-Match``, else
``If-Unmodified-Since``; then ``If-None-Match``, else ``If-Modified-Since``;
then ``Range``, guarded by ``If-Range``.

A malformed ``Range``, another unit than ``bytes``, or several ranges at once
are ignored (200 with the whole representation, which RFC 9110 allows and
every client understands); a single range that starts past the end is a 416.
"""

from __future__ import annotations

from datetime import datetime

from werkzeug.datastructures import Headers
from werkzeug.http import parse_date, parse_etags, parse_range_header

from .exceptions import PreconditionFailed, RequestedRangeNotSatisfiable


def evaluate(
    headers: Headers,
    etag: str | None,
    last_modified: datetime | None,
    length: int | None,
) -> tuple[int, tuple[int, int] | None]:
    """The status for a GET/HEAD, and the byte range ``(start, stop)`` to send, if any.

    ``headers`` are the request's; ``etag`` is the quoted
    ETag (``'"v1"'`` or ``'W/"v1"'``). Raises :class:`PreconditionFailed` for a
    failed ``If-Match``/``If-Unmodified-Since`` and
    :class:`RequestedRangeNotSatisfiable` for a range past the end.
    """
    get = headers.get
    seconds = _seconds(last_modified)
    if_match = get("if-match")
    if if_match is not None:
        if not _etag_in(if_match, etag, weak=False):
            raise PreconditionFailed()
    else:
        since = _seconds(parse_date(get("if-unmodified-since")))
        if since is not None and seconds is not None and seconds > since:
            raise PreconditionFailed()
    if_none_match = get("if-none-match")
    if if_none_match is not None:
        if _etag_in(if_none_match, etag, weak=True):
            return 304, None
    else:
        since = _seconds(parse_date(get("if-modified-since")))
        if since is not None and seconds is not None and seconds <= since:
            return 304, None

    range_header = get("range")
    # An empty representation has no byte to point at: the Range is ignored.
    if range_header is None or not length:
        return 200, None
    if_range = get("if-range")
    if if_range is not None and not _if_range_fresh(if_range.strip(), etag, seconds):
        return 200, None
    byte_range = _byte_range(range_header, length)
    return (200, None) if byte_range is None else (206, byte_range)


def _seconds(moment: datetime | None) -> int | None:
    # HTTP dates have whole seconds: compare what the client could have seen.
    return int(moment.timestamp()) if moment is not None else None


def _etag_in(header: str, etag: str | None, weak: bool) -> bool:
    """Whether ``etag`` is in an ``If-*`` list: RFC 9110's weak or strong comparison."""
    tags = parse_etags(header)
    if tags.star_tag:
        return True
    if etag is None:
        return False
    is_weak = etag.startswith("W/")
    opaque = etag[2:].strip('"') if is_weak else etag.strip('"')
    if weak:
        return tags.contains_weak(opaque)
    return not is_weak and tags.contains(opaque)


def _if_range_fresh(if_range: str, etag: str | None, seconds: int | None) -> bool:
    if if_range.startswith(('"', "W/")):
        return _etag_in(if_range, etag, weak=False)
    date = _seconds(parse_date(if_range))
    return date is not None and date == seconds


def _byte_range(header: str, length: int) -> tuple[int, int] | None:
    """``(start, stop)`` for one ``bytes`` range; ``None`` to ignore the header."""
    parsed = parse_range_header(header)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        return None  # malformed, another unit, or several ranges
    start, stop = parsed.ranges[0]
    if start < 0:  # the last -start bytes
        return max(length + start, 0), length
    if start >= length:
        raise RequestedRangeNotSatisfiable(length=length)
    return start, length if stop is None else min(stop, length)
