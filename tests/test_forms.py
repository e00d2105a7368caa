"""Form bodies: parsed when first read, and bounded in memory and time while parsed."""

from __future__ import annotations

import io
import tracemalloc
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microasgi import BadRequest, MicroASGI, RequestEntityTooLarge, request
from microasgi.forms import MAX_STRAY_PERCENT, parse_qs, unquote_plus

from .asgi import Wire, http_scope

URLENCODED = (b"content-type", b"application/x-www-form-urlencoded")
MULTIPART = (b"content-type", b"multipart/form-data; boundary=XyZ")
MiB = 1024 * 1024

# -- decoding ------------------------------------------------------------------------------------

_FORM_BYTES = st.binary(max_size=40) | st.lists(
    st.sampled_from([b"%", b"%4", b"%41", b"%e9", b"%zz", b"+", b"=", b"\r", b"\n", b"\\", b"a"]),
    max_size=20,
).map(b"".join)


@given(_FORM_BYTES)
def test_unquote_plus_decodes_as_the_standard_library(raw: bytes) -> None:
    assert unquote_plus(raw) == unquote_to_bytes(raw.replace(b"+", b" "))


@given(st.lists(_FORM_BYTES | st.sampled_from([b"&", b"&&", b"=", b"a=b"]), max_size=12))
def test_parse_qs_parses_as_the_standard_library(pieces: list[bytes]) -> None:
    raw = b"".join(pieces)
    text = raw.decode("utf-8", "surrogateescape")
    expected = parse_qsl(text, keep_blank_values=True, errors="surrogateescape")
    got = parse_qs(raw, "utf-8", None)
    # The standard library keeps undecodable bytes as surrogates; we replace them.
    clean = [(k.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape"))
             for k, v in expected]  # fmt: skip
    assert [(k.encode(), v.encode()) for k, v in got] == [
        (k.decode("utf-8", "replace").encode(), v.decode("utf-8", "replace").encode())
        for k, v in clean
    ]


def test_stray_percent_signs_are_kept_up_to_a_bound() -> None:
    assert unquote_plus(b"100%+sure") == b"100% sure"
    assert unquote_plus(b"%" * MAX_STRAY_PERCENT + b"%41") == b"%" * MAX_STRAY_PERCENT + b"A"
    with pytest.raises(BadRequest, match="%25"):
        unquote_plus(b"%" * (MAX_STRAY_PERCENT + 1))
    with pytest.raises(BadRequest, match="%25"):
        unquote_plus(b"%41%4x" * (MAX_STRAY_PERCENT + 1))


def test_too_many_fields_is_counted_before_anything_is_decoded() -> None:
    assert len(parse_qs(b"&".join([b"a=1"] * 5), "utf-8", 5)) == 5
    assert parse_qs(b"a=1&&&b=2&", "utf-8", 2) == [("a", "1"), ("b", "2")]  # empty pieces
    with pytest.raises(RequestEntityTooLarge):
        parse_qs(b"&".join([b"a=1"] * 6), "utf-8", 5)


# -- through the app -----------------------------------------------------------------------------


def make_app() -> MicroASGI:
    app = MicroASGI(__name__, static_folder=None)
    app.config["BODY_MEMORY_LIMIT"] = 1 * MiB

    @app.post("/form")
    async def form() -> dict[str, Any]:
        return {
            "fields": {k: len(v) for k, v in request.form.items()},
            "files": {k: type(f.stream).__name__ for k, f in request.files.items()},
        }

    @app.post("/sync-form")
    def sync_form() -> dict[str, Any]:
        return {"fields": len(request.form)}

    @app.post("/ignore")
    async def ignore() -> str:
        return "not read"

    return app


async def post(app: MicroASGI, path: str, header: tuple[bytes, bytes], body: bytes) -> Wire:
    wire = Wire(_chunks(body))
    await app(_scope(path, header, body), wire.receive, wire.send)
    return wire


def _scope(path: str, header: tuple[bytes, bytes], body: bytes) -> dict[str, Any]:
    return http_scope(path, "POST", headers=[header, (b"content-length", b"%d" % len(body))])


def _chunks(body: bytes) -> list[bytes]:
    # As a server delivers it: in 64 KiB messages.
    return [body[i : i + 65536] for i in range(0, len(body), 65536)] or [b""]


async def traced_peak(
    app: MicroASGI, path: str, header: tuple[bytes, bytes], body: bytes
) -> tuple[Wire, int]:
    """The response, and the most memory Python allocated while the app handled it."""
    wire = Wire(_chunks(body))  # made before: the test's own copy of the body
    sc = _scope(path, header, body)
    tracemalloc.start()
    try:
        await app(sc, wire.receive, wire.send)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return wire, peak


_PERCENT_BODY = b"a=" + b"%41" * (5 * MiB)  # 15 MiB of escapes


@pytest.mark.parametrize("path", ["/form", "/sync-form", "/ignore"])
async def test_a_15_mib_body_of_escapes_takes_little_memory(path: str) -> None:
    # It took a worker to 1.2-1.3 GB, parsed on the event loop whether read or not.
    app = make_app()
    wire, peak = await traced_peak(app, path, URLENCODED, _PERCENT_BODY)
    if path == "/ignore":  # not read as a form: not parsed
        assert wire.text == "not read"
    else:
        assert wire.status == 413
        assert b"MAX_FORM_MEMORY_SIZE" in wire.body
    # The body spools to disk past BODY_MEMORY_LIMIT: memory holds about a chunk.
    assert peak < 4 * MiB, f"{peak / MiB:.1f} MiB"


@pytest.mark.parametrize("path", ["/form", "/sync-form"])
async def test_a_form_at_the_memory_limit_parses_within_a_small_multiple_of_it(path: str) -> None:
    app = make_app()
    limit = app.config["MAX_FORM_MEMORY_SIZE"]
    body = b"a=" + b"%41" * ((limit - 2) // 3)
    wire, peak = await traced_peak(app, path, URLENCODED, body)
    assert wire.status == 200
    assert peak < 6 * limit, f"{peak / limit:.1f} times the limit"  # parse_qsl: ~80 times


async def test_multipart_text_is_bounded_as_a_whole_and_stops_at_once() -> None:
    app = make_app()
    limit = app.config["MAX_FORM_MEMORY_SIZE"]
    part = b"v" * (limit // 2)
    parts = b"".join(
        b'--XyZ\r\nContent-Disposition: form-data; name="f%d"\r\n\r\n%s\r\n' % (i, part)
        for i in range(30)
    )
    wire, peak = await traced_peak(app, "/form", MULTIPART, parts + b"--XyZ--\r\n")
    assert wire.status == 413
    assert b"MAX_FORM_MEMORY_SIZE" in wire.body
    assert peak < 3 * MiB, f"{peak / MiB:.1f} MiB"  # the body is 7 MiB: on disk
    fits = parts[: parts.index(b"--XyZ", 10)]  # one part: within the limit
    wire = await post(app, "/form", MULTIPART, fits + b"--XyZ--\r\n")
    assert wire.json() == {"fields": {"f0": limit // 2}, "files": {}}


async def test_uploaded_files_stay_in_memory_only_when_the_body_did() -> None:
    app = make_app()

    def upload(size: int) -> bytes:
        return (
            b'--XyZ\r\nContent-Disposition: form-data; name="doc"; filename="a.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + b"d" * size + b"\r\n--XyZ--\r\n"
        )

    small = await post(app, "/form", MULTIPART, upload(1000))
    assert small.json()["files"] == {"doc": "BytesIO"}
    large, peak = await traced_peak(app, "/form", MULTIPART, upload(8 * MiB))
    assert large.status == 200
    assert large.json()["files"]["doc"] != "BytesIO"  # a temporary file
    assert peak < 4 * MiB, f"{peak / MiB:.1f} MiB"


async def test_a_form_is_parsed_once_and_its_error_raised_on_each_read() -> None:
    app = MicroASGI(__name__, static_folder=None)
    app.config["MAX_FORM_PARTS"] = 2
    seen: list[str] = []

    @app.post("/")
    async def index() -> str:
        for _ in range(2):
            try:
                request.form  # noqa: B018 - reading it is the point
            except RequestEntityTooLarge as exc:
                seen.append(type(exc).__name__)
        return "read"

    wire = await post(app, "/", URLENCODED, b"a=1&b=2&c=3")
    assert wire.text == "read"
    assert seen == ["RequestEntityTooLarge", "RequestEntityTooLarge"]


def test_a_request_made_by_hand_parses_its_form_with_the_default_limits() -> None:
    from microasgi.wrappers.request import Request

    sc = http_scope("/", "POST", headers=[URLENCODED])
    req = Request(sc)
    req._data = b"name=ada&lang=%F0%9F%90%8D"
    assert req.form.to_dict() == {"name": "ada", "lang": "\N{SNAKE}"}
    req = Request(sc)
    req._data = b"x=" + b"y" * 600_000
    with pytest.raises(RequestEntityTooLarge):
        req.form  # noqa: B018


def test_test_request_context_form_inside_a_running_loop_needs_no_thread() -> None:
    import anyio

    app = make_app()

    async def main() -> dict[str, str]:
        async with app.test_request_context("/", method="POST", data={"a": "1"}):
            return request.form.to_dict()

    assert anyio.run(main) == {"a": "1"}


def test_file_storage_is_werkzeug_s(tmp_path: Any) -> None:
    import werkzeug.datastructures

    app = make_app()

    @app.post("/save")
    def save() -> str:
        f = request.files["doc"]
        assert isinstance(f, werkzeug.datastructures.FileStorage)
        f.save(tmp_path / "out")
        return f"{f.filename} {f.mimetype} {f.name}"

    client = app.test_client()
    response = client.post("/save", data={"doc": (io.BytesIO(b"hi"), "h\u00e9.txt", "text/plain")})
    assert response.text == "h\u00e9.txt text/plain doc"
    assert (tmp_path / "out").read_bytes() == b"hi"
