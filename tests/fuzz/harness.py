"""The robustness property, and the hypothesis strategies that feed it.

Shared by the bounded fuzz test in tests/test_robustness.py and the long-running
target in tests/fuzz/run_fuzz.py. An *exchange* is one ASGI HTTP request: a
scope (method, path, raw_path, root_path, query string, headers, version) and a
body handed out in chunks, possibly cut short by a client disconnect.

The property, for an app with no deliberately failing route:

- ``await app(scope, receive, send)`` never raises and never hangs;
- the app answers with exactly one ``http.response.start``, then body messages
  ending with ``more_body`` False (or one ``http.response.pathsend``); only a
  client that disconnected may be left with less (or nothing);
- the status is never 5xx, nothing is logged at ERROR, and no traceback leaks;
- a declared ``Content-Length`` matches the body sent.
"""

from __future__ import annotations

import json
import logging
import string
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import anyio
from hypothesis import strategies as st

# -- one exchange over ASGI -------------------------------------------------------------


@dataclass
class Exchange:
    """One request: the scope, the body chunks, and whether the client leaves early."""

    scope: dict[str, Any]
    chunks: list[bytes]
    #: The last chunk says more_body=True and the next receive() is a disconnect.
    truncated: bool = False

    def describe(self) -> str:
        scope = {k: v for k, v in self.scope.items() if k not in ("asgi", "state")}
        return (
            f"scope={scope!r}\nchunks={[c[:200] for c in self.chunks]!r} "
            f"(sizes {[len(c) for c in self.chunks]}) truncated={self.truncated}"
        )


@dataclass
class Wire:
    """receive/send for one exchange; records what the app sent."""

    exchange: Exchange
    messages: list[dict[str, Any]] = field(default_factory=list)
    delivered: int = 0
    disconnected: bool = False
    receive_calls: int = 0

    def __post_init__(self) -> None:
        self.finished = anyio.Event()

    async def receive(self) -> dict[str, Any]:
        self.receive_calls += 1
        chunks = self.exchange.chunks
        if self.delivered < len(chunks):
            index = self.delivered
            self.delivered += 1
            last = index == len(chunks) - 1
            return {
                "type": "http.request",
                "body": chunks[index],
                "more_body": not last or self.exchange.truncated,
            }
        if not chunks and not self.exchange.truncated and self.delivered == 0:
            self.delivered = 1
            return {"type": "http.request", "body": b"", "more_body": False}
        if not self.exchange.truncated:
            # A server reports the disconnect once the response is complete.
            await self.finished.wait()
        self.disconnected = True
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if self.finished.is_set():
            # Sending after the response is complete: ASGI servers raise here.
            self.messages.append({"type": "<after completion>", "message": message})
            return
        self.messages.append(message)
        if message["type"] == "http.response.pathsend" or (
            message["type"] == "http.response.body" and not message.get("more_body", False)
        ):
            self.finished.set()


class ErrorLog(logging.Handler):
    """Collects ERROR records of the loggers it is attached to."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def describe(self) -> str:
        out = []
        for record in self.records:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                import traceback

                text += "\n" + "".join(traceback.format_exception(*record.exc_info))
            out.append(f"[{record.name}] {text}")
        return "\n".join(out)


@contextmanager
def error_log(*names: str) -> Iterator[ErrorLog]:
    """Capture ERROR records of loggers ``names`` (not propagated while capturing)."""
    handler = ErrorLog()
    loggers = [logging.getLogger(name) for name in names]
    saved = [(lg.propagate, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
        if lg.level == logging.NOTSET or lg.level > logging.ERROR:
            lg.setLevel(logging.ERROR)
    try:
        yield handler
    finally:
        for lg, (propagate, level) in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.propagate = propagate
            lg.setLevel(level)


async def run_exchange(app: Any, exchange: Exchange, timeout: float = 20) -> tuple[Wire, Any]:
    """Drive ``app`` through ``exchange``; the wire and what ``__call__`` raised (or None)."""
    wire = Wire(exchange)
    raised: BaseException | None = None
    try:
        with anyio.fail_after(timeout):
            await app(exchange.scope, wire.receive, wire.send)
    except TimeoutError as exc:
        raised = exc
    except Exception as exc:
        raised = exc
    return wire, raised


def violations(wire: Wire, raised: BaseException | None, log: ErrorLog) -> list[str]:
    """Everything wrong with this exchange's outcome (empty: the property holds)."""
    problems: list[str] = []
    if isinstance(raised, TimeoutError):
        problems.append("the app hung (no answer within the timeout)")
    elif raised is not None:
        problems.append(f"__call__ raised {type(raised).__name__}: {raised}")
    if log.records:
        problems.append("logged at ERROR:\n" + log.describe())
    messages = wire.messages
    if not messages:
        if not wire.disconnected:
            problems.append("no response at all, and the client never disconnected")
        return problems
    start, *rest = messages
    if start["type"] != "http.response.start":
        problems.append(f"first message is {start['type']!r}, not http.response.start")
        return problems
    status = start.get("status")
    if not isinstance(status, int) or not 100 <= status <= 599:
        problems.append(f"bad status {status!r}")
    elif status >= 500:
        problems.append(f"answered {status} to a client")
    headers = start.get("headers", [])
    for pair in headers:
        name, value = pair
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            problems.append(f"header {pair!r} is not a pair of bytes")
        elif any(c in value for c in (b"\r", b"\n", b"\0")) or any(
            c in name for c in (b"\r", b"\n", b"\0", b":")
        ):
            problems.append(f"header {pair!r} holds CR, LF, NUL (or ':' in its name)")
    body = b""
    complete = False
    pathsend = False
    for message in rest:
        if complete:
            problems.append(f"message after the response was complete: {message!r:.200}")
            break
        kind = message["type"]
        if kind == "http.response.start":
            problems.append("a second http.response.start")
        elif kind == "http.response.body":
            chunk = message.get("body", b"")
            if not isinstance(chunk, bytes):
                problems.append(f"body chunk of type {type(chunk).__name__}")
                chunk = bytes(chunk)
            body += chunk
            complete = not message.get("more_body", False)
        elif kind == "http.response.pathsend":
            pathsend = complete = True
        else:
            problems.append(f"unexpected message {message!r:.200}")
    if not complete and not wire.disconnected:
        problems.append("the response never ended (no more_body=False), yet the client stayed")
    if b"Traceback (most recent call last)" in body:
        problems.append("a traceback in the body")
    declared = [v for k, v in headers if k == b"content-length"]
    if len(declared) > 1:
        problems.append(f"several Content-Length headers: {declared!r}")
    head = wire.exchange.scope.get("method") == "HEAD"
    checkable = complete and declared and not pathsend and not head and status not in (204, 304)
    if checkable and declared[0] != str(len(body)).encode():
        problems.append(f"Content-Length {declared[0]!r} but {len(body)} bytes sent")
    return problems


# -- strategies ---------------------------------------------------------------------------

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]
TOKEN = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"

# Any text: NUL, controls, "/", "%", "..", non-ASCII and lone surrogates included.
any_text = st.text(max_size=30)
segment = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "-_.~", min_size=1, max_size=12),
    st.sampled_from(["..", ".", "%", "%2F", "%00", "\x00", "a b", "é", "\udcff", "\ufffd", ""]),
    any_text,
)
numberish = st.one_of(
    st.integers(0, 30).map(str),
    st.floats(0, 100, allow_nan=False).map(lambda f: f"{f:.3f}"),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet="0123456789.-+e", max_size=40),
    st.sampled_from(["1" * 5000, "0" * 100 + "1", "\u0661\u0662", "\xb2", "\u0661.\u0662"]),
)


def _join(*parts: str) -> str:
    return "/".join(parts)


route_paths = st.one_of(
    st.sampled_from(
        [
            "/",
            "/sync",
            "/text",
            "/echo",
            "/aecho",
            "/json",
            "/json-sync",
            "/form",
            "/slash",
            "/slash/",
            "/template",
            "/redirect",
            "/flash",
            "/session",
            "/session/read",
            "/file-obj",
            "/gen-return",
            "/upload",
            "/upload-sync",
            "/shop/order",
            "/shop/item/apple",
            "/shop/item/pear",
            "/shop",
            "/shop/",
            "/wsgi",
            "/wsgi/",
            "/static/hello.txt",
            "/static/empty.txt",
            "/static/big.bin",
            "/static/sub/data.json",
            "/static/style.css",
            "/file/hello",
            "/file/big",
            "/favicon.ico",
            "*",
            "",
        ]
    ),
    numberish.map(lambda n: "/int/" + n),
    st.tuples(numberish, numberish).map(lambda p: f"/signed/{p[0]}/{p[1]}"),
    numberish.map(lambda n: "/float/" + n),
    st.one_of(st.uuids().map(str), any_text).map(lambda u: "/uuid/" + u),
    st.tuples(st.sampled_from(["red", "green", "blue", "RED", "pink", ""]), segment).map(
        lambda p: f"/any/{p[0]}/{p[1]}"
    ),
    st.lists(segment, min_size=1, max_size=5).map(lambda s: "/path/" + _join(*s)),
    st.lists(segment, min_size=0, max_size=4).map(lambda s: "/static/" + _join(*s)),
    st.lists(segment, min_size=0, max_size=4).map(lambda s: "/wsgi/" + _join(*s)),
    segment.map(lambda s: "/shop/item/" + s),
    numberish.map(lambda n: "/gen/" + n),
    numberish.map(lambda n: "/agen/" + n),
    numberish.map(lambda n: "/abort/" + n),
    numberish.map(lambda n: "/args/" + n),
    segment.map(lambda s: "/file/" + s),
    st.lists(segment, max_size=6).map(lambda s: "/" + _join(*s)),
    any_text,  # no leading slash, absolute-form URLs, "*"...
    st.sampled_from(["http://evil.example/x", "//double", "/\x00", "/a\nb"]),
)

# (methods, path) pairs that reach a view: most fuzzed requests should get past routing.
GET, BODY = ["GET", "HEAD"], ["POST", "PUT", "PATCH"]
_get_routes = st.one_of(
    st.sampled_from(
        [
            "/",
            "/sync",
            "/text",
            "/echo",
            "/template",
            "/redirect",
            "/flash",
            "/session",
            "/session/read",
            "/file-obj",
            "/gen-return",
            "/shop/item/apple",
            "/shop/item/pear",
            "/static/hello.txt",
            "/static/empty.txt",
            "/static/big.bin",
            "/static/style.css",
            "/static/sub/data.json",
            "/file/hello",
            "/file/big",
            "/wsgi/",
            "/slash/",
        ]
    ),
    st.integers(0, 40).map(lambda n: f"/gen/{n}"),
    st.integers(0, 40).map(lambda n: f"/agen/{n}"),
    st.integers(0, 40).map(lambda n: f"/args/{n}"),
    st.integers(-99, 120).map(lambda n: f"/signed/{n}/{n}"),
    st.uuids().map(lambda u: f"/uuid/{u}"),
    st.sampled_from(["red", "blue"]).map(lambda c: f"/any/{c}/x"),
    st.lists(segment, min_size=1, max_size=4).map(lambda s: "/path/" + _join(*s)),
    segment.map(lambda s: "/shop/item/" + s),
)
_body_routes = st.sampled_from(
    [
        "/echo",
        "/aecho",
        "/json",
        "/json-sync",
        "/form",
        "/upload",
        "/upload-sync",
        "/shop/order",
        "/wsgi/upload",
        "/",
        "/sync",
        "/flash",
        "/session",
    ]
)
plausible_routes = st.one_of(
    st.tuples(st.sampled_from(["GET", "HEAD"]), _get_routes),
    st.tuples(st.sampled_from(["POST", "PUT", "PATCH"]), _body_routes),
)

QUERY_KEYS = ["q", "size", "to", "m", "buy", "permanent", "dl", "page", "x"]
query_strings = st.one_of(
    st.just(b""),
    st.binary(max_size=200),
    st.lists(
        st.tuples(st.sampled_from(QUERY_KEYS) | any_text, any_text | numberish), max_size=8
    ).map(lambda pairs: urlencode(pairs).encode("ascii")),
    st.lists(st.sampled_from([b"a=1", b"&", b"=", b"%", b"%zz", b"a", b"\xff", b";", b"+"])).map(
        b"".join
    ),
    st.integers(1, 300).map(lambda n: b"&".join(b"k%d=v" % i for i in range(n))),
)

http_dates = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")),
    st.sampled_from(
        [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "garbage",
            "Mon, 99 Foo 99999 99:99:99 GMT",
            "Sun, 06 Nov 1994 08:49:37 +9999",
            "0",
            "",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Mon, 0 Jan 0 00:00:00",
        ]
    ),
    any_text,
)
range_values = st.one_of(
    st.tuples(st.sampled_from(["bytes", "BYTES", "items", "bytes "]), numberish, numberish).map(
        lambda r: f"{r[0]}={r[1]}-{r[2]}"
    ),
    st.sampled_from(
        [
            "bytes=0-0",
            "bytes=-1",
            "bytes=5-",
            "bytes=0-1,3-4",
            "bytes=-0",
            "bytes=",
            "bytes=-",
            "bytes=99999999-",
            "bytes=" + "9" * 5000 + "-",
            "bytes=0-" + "9" * 5000,
        ]
    ),
    any_text,
)
etags = st.one_of(
    st.sampled_from(['"abc"', 'W/"abc"', "*", '"', "W/", ",,,", '"a", W/"b"']), any_text
)
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded; charset=garbage",
    "multipart/form-data; boundary=XyZ",
    'multipart/form-data; boundary="XyZ"',
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=XyZ; charset=garbage",
    "multipart/form-data; boundary=" + "x" * 200,
    "application/json",
    "application/json; charset=utf-16",
    "application/json; charset=garbage",
    "application/vnd.api+json",
    "text/plain",
    "text/plain; charset=latin-1",
    "text/plain; charset=garbage",
    "text/plain; charset=",
    "text/plain; charset",
    ";;;",
    "",
]
content_types = st.one_of(st.sampled_from(CONTENT_TYPES), any_text)
header_names = st.one_of(
    st.sampled_from(
        [
            "host",
            "content-type",
            "content-length",
            "cookie",
            "range",
            "if-range",
            "if-modified-since",
            "if-unmodified-since",
            "if-none-match",
            "if-match",
            "accept",
            "accept-encoding",
            "transfer-encoding",
            "expect",
            "user-agent",
            "x-forwarded-for",
            "authorization",
            "origin",
            "connection",
            "upgrade",
        ]
    ),
    st.text(alphabet=TOKEN, min_size=1, max_size=20).map(str.lower),
    st.binary(max_size=20).map(lambda b: b.lower().decode("latin-1")),
)


def header_value(name: str, cookies: list[str]) -> st.SearchStrategy[str]:
    """Plausible and implausible values for header ``name``."""
    specific: dict[str, st.SearchStrategy[str]] = {
        "content-type": content_types,
        "content-length": numberish,
        "cookie": st.one_of(
            st.sampled_from(cookies).map(lambda c: f"session={c}"),
            st.tuples(st.sampled_from(cookies), st.integers(0, 200), any_text).map(
                lambda t: "session=" + t[0][: t[1]] + t[2]
            ),
            any_text.map(lambda v: "session=" + v),
            any_text,
        ),
        "range": range_values,
        "if-range": st.one_of(http_dates, etags),
        "if-modified-since": http_dates,
        "if-unmodified-since": http_dates,
        "if-none-match": etags,
        "if-match": etags,
        "accept": st.one_of(
            st.sampled_from(["*/*", "text/html;q=0.9, application/json", "a/b;q=x", ";q=1"]),
            any_text,
        ),
        "transfer-encoding": st.sampled_from(["chunked", "gzip, chunked", "identity", ""]),
        "expect": st.sampled_from(["100-continue", "x"]),
        "host": st.sampled_from(["testserver", "example.com:8080", "", "[::1]:80", "a b"]),
    }
    return specific.get(name, any_text) | st.binary(max_size=50).map(lambda b: b.decode("latin-1"))


def _encode_header(value: str) -> bytes:
    return value.encode("latin-1", "replace") if value.isascii() is False else value.encode()


@st.composite
def headers_list(draw: st.DrawFn, cookies: list[str]) -> list[tuple[bytes, bytes]]:
    pairs = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(header_names)
        value = draw(header_value(name, cookies))
        pairs.append((name.encode("latin-1", "replace"), _encode_header(value)))
    return pairs


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=15,
)


def _multipart(
    boundary: str, fields: list[tuple[str, str]], files: list[tuple[str, bytes]]
) -> bytes:
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode(
                "utf-8", "surrogateescape"
            )
            + value.encode("utf-8", "surrogateescape")
            + b"\r\n"
        )
    for name, content in files:
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{name}.txt"\r\nContent-Type: text/plain\r\n\r\n'
            ).encode("utf-8", "surrogateescape")
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode("utf-8", "surrogateescape"))
    return b"".join(parts)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str | None, bytes]:
    """A content type (None: no header) and a body that may or may not match it."""
    kind = draw(st.sampled_from(["none", "form", "multipart", "json", "raw", "deep", "big"]))
    if kind == "none":
        return None, b""
    if kind == "form":
        pairs = draw(st.lists(st.tuples(any_text, any_text), max_size=8))
        body = urlencode(
            [
                (k.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape"))
                for k, v in pairs
            ]
        ).encode()
        if draw(st.booleans()):
            body += draw(st.binary(max_size=20))
        return draw(st.sampled_from(CONTENT_TYPES[:3])), body
    if kind == "multipart":
        boundary = draw(st.sampled_from(["XyZ", "----b", "a" * 70]))
        fields = draw(
            st.lists(st.tuples(st.sampled_from(["name", "x", ""]) | any_text, any_text), max_size=5)
        )
        files = draw(
            st.lists(st.tuples(st.sampled_from(["f", "doc"]), st.binary(max_size=600)), max_size=3)
        )
        body = _multipart(boundary, fields, files)
        mangle = draw(st.sampled_from(["none", "none", "truncate", "garble"]))
        if mangle == "truncate" and body:
            body = body[: draw(st.integers(0, len(body) - 1))]
        elif mangle == "garble" and body:
            at = draw(st.integers(0, len(body) - 1))
            body = body[:at] + draw(st.binary(min_size=1, max_size=10)) + body[at + 1 :]
        ctype = draw(
            st.sampled_from(
                [
                    f"multipart/form-data; boundary={boundary}",
                    f'multipart/form-data; boundary="{boundary}"',
                    "multipart/form-data",
                    "multipart/form-data; boundary=",
                    f"multipart/form-data; boundary={boundary}; charset=garbage",
                ]
            )
        )
        return ctype, body
    if kind == "json":
        value = draw(json_values)
        body = json.dumps(value).encode()
        if draw(st.booleans()):
            cut = draw(st.integers(0, len(body)))
            body = body[:cut] + draw(st.binary(max_size=5))
        return draw(st.sampled_from(CONTENT_TYPES[9:13])), body
    if kind == "deep":
        depth = draw(st.sampled_from([100, 1000, 10_000, 60_000]))
        opener = draw(st.sampled_from([b"[", b'{"a":']))
        return "application/json", opener * depth
    if kind == "big":
        return draw(content_types), b"x" * draw(st.sampled_from([513, 4097, 65536, 65537]))
    return draw(st.one_of(st.none(), content_types)), draw(st.binary(max_size=300))


def _split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts})
    chunks, last = [], 0
    for point in points:
        chunks.append(body[last:point])
        last = point
    chunks.append(body[last:])
    return chunks


@st.composite
def exchanges(draw: st.DrawFn, cookies: list[str]) -> Exchange:
    """One random request for the fuzz app (see tests/apps/robust_fuzz_app.py)."""
    # Mostly plausible requests (they reach views, forms, files), some junk everywhere.
    plausible = st.integers(0, 9).map(lambda i: i < 7)
    if draw(plausible):
        method, path = draw(plausible_routes)
    else:
        path = draw(route_paths)
        method = draw(
            st.one_of(
                st.sampled_from(METHODS), st.text(alphabet=TOKEN, max_size=10), st.text(max_size=6)
            )
        )
    root_path = draw(st.sampled_from(["", "", "", "", "/prefix", "/pré fix"]))
    if root_path and draw(st.booleans()):
        path = root_path + path  # ASGI 2.5: path includes root_path; older servers strip it
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": draw(st.sampled_from(["2.3", "2.4", "2.5"]))},
        "http_version": draw(st.sampled_from(["1.1", "1.1", "1.0", "2"])),
        "method": method,
        "scheme": draw(st.sampled_from(["http", "https"])),
        "path": path,
        "query_string": draw(query_strings),
        "root_path": root_path,
        "client": draw(st.sampled_from([("10.0.0.7", 4321), None, ("::1", 0)])),
        "server": draw(st.sampled_from([("testserver", 80), None, ("example.com", 8443)])),
        "extensions": draw(st.sampled_from([{}, {"http.response.pathsend": {}}])),
        "state": {},
    }
    raw_path = draw(st.sampled_from(["derived", "derived", "missing", "random"]))
    if raw_path == "derived":
        scope["raw_path"] = (
            quote(path, safe="/:@!$&'()*+,;=~").encode("utf-8", "surrogateescape")
            if path.isascii()
            else path.encode("utf-8", "surrogateescape")
        )
    elif raw_path == "random":
        scope["raw_path"] = draw(st.binary(max_size=40))
    headers: list[tuple[bytes, bytes]] = []
    if draw(st.integers(0, 4)) < 4:
        headers.append((b"host", b"testserver"))
    content_type, body = draw(bodies())
    if content_type is not None:
        headers.append((b"content-type", _encode_header(content_type)))
    length_mode = draw(st.sampled_from(["none", "exact", "exact", "lie", "junk"]))
    if length_mode == "exact":
        headers.append((b"content-length", str(len(body)).encode()))
    elif length_mode == "lie":
        lie = draw(st.one_of(st.integers(0, 2 * len(body) + 16), st.integers(0, 10**6)))
        headers.append((b"content-length", str(lie).encode()))
    elif length_mode == "junk":
        headers.append((b"content-length", _encode_header(draw(numberish))))
    if draw(plausible):
        extra = draw(
            st.lists(
                st.sampled_from(
                    [
                        "range",
                        "cookie",
                        "if-modified-since",
                        "if-none-match",
                        "accept",
                        "if-range",
                        "if-unmodified-since",
                        "if-match",
                        "content-type",
                        "content-length",
                        "transfer-encoding",
                        "expect",
                    ]
                ),
                max_size=3,
            )
        )
        headers += [(n.encode(), _encode_header(draw(header_value(n, cookies)))) for n in extra]
    else:
        headers += draw(headers_list(cookies))
    if path.startswith(("/static/", "/file/")) and draw(st.booleans()):
        # Files answer Range and conditional requests: aim more of those at them.
        name = draw(st.sampled_from(["range", "if-range", "if-modified-since", "if-none-match"]))
        headers.append((name.encode(), _encode_header(draw(header_value(name, cookies)))))
    headers = draw(st.permutations(headers))
    scope["headers"] = headers
    chunks = _split(body, draw(st.lists(st.integers(0, 10**6), max_size=6)))
    if draw(st.integers(0, 9)) == 9:
        chunks.insert(draw(st.integers(0, len(chunks))), b"")  # empty messages are legal
    truncated = draw(st.integers(0, 9)) == 9  # the client leaves before the body's end
    return Exchange(scope, chunks, truncated)


def health_exchange() -> Exchange:
    """A plain GET of /text: after any exchange, the app must still answer it."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/text",
        "raw_path": b"/text",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("1.2.3.4", 5),
        "server": ("testserver", 80),
        "extensions": {},
        "state": {},
    }
    return Exchange(scope, [b""])


LOGGERS = ("robust_fuzz", "microasgi.wsgi", "microasgi", "asyncio")


async def check_exchange(app: Any, exchange: Exchange) -> list[str]:
    """Run ``exchange`` then a health check; every violation of the property found."""
    with error_log(*LOGGERS) as log:
        wire, raised = await run_exchange(app, exchange)
        problems = violations(wire, raised, log)
        health, health_raised = await run_exchange(app, health_exchange(), timeout=10)
        body = b"".join(m.get("body", b"") for m in health.messages[1:])
        if (
            health_raised is not None
            or not health.messages
            or (health.messages[0].get("status"), body) != (200, b"plain text")
        ):
            problems.append(
                f"the next request failed: {[m.get('status') for m in health.messages]} "
                f"{body[:100]!r} {health_raised!r}"
            )
    return problems


def session_cookies(app: Any) -> list[str]:
    """A few validly signed session cookies for ``app``."""
    serializer = app.session_interface.get_signing_serializer(app)
    return [
        serializer.dumps({"count": 3}),
        serializer.dumps({"count": 7, "_flashes": [["message", "hi"]]}),
        serializer.dumps({"_permanent": True, "count": 10**20}),
        serializer.dumps({}),
        str(uuid.UUID(int=0)),
    ]
