"""send_file, send_from_directory, safe_join and the static route, end to end."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import IO, Any, cast

import anyio
import pytest

from microasgi import MicroASGI, NotFound, request, url_for
from microasgi.files import CHUNK_SIZE, FileResponse, safe_join, send_file, send_from_directory
from microasgi.testing import TestClient, build_scope
from microasgi.typing import Message

FIXTURE = Path(__file__).parent / "static_fixture"
STATIC = FIXTURE / "static"
ALPHABET = b"abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def files_app() -> MicroASGI:
    """An app whose root holds ``static/``, ``files/`` and a ``secret.txt`` outside both."""
    app = MicroASGI("files_app", root_path=str(FIXTURE))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def files_client(files_app: MicroASGI) -> Iterator[TestClient]:
    client = files_app.test_client()
    yield client
    client.close()


def make_app(root: Path) -> MicroASGI:
    app = MicroASGI("files_app", root_path=str(root))
    app.config["TESTING"] = True
    return app


class Wire:
    """receive/send for driving an app directly: an empty body, then a disconnect when told."""

    def __init__(self, disconnect_after_chunks: int | None = None) -> None:
        self.messages: list[Message] = []
        self.sent_request = False
        self.gone = anyio.Event()
        self.disconnect_after_chunks = disconnect_after_chunks

    async def receive(self) -> Message:
        if not self.sent_request:
            self.sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] != "http.response.body":
            return
        chunks = [m for m in self.messages if m["type"] == "http.response.body" and m["body"]]
        limit = self.disconnect_after_chunks
        if not message.get("more_body") or (limit is not None and len(chunks) >= limit):
            self.gone.set()

    @property
    def bodies(self) -> list[Message]:
        return [m for m in self.messages if m["type"] == "http.response.body"]

    @property
    def body(self) -> bytes:
        return b"".join(m["body"] for m in self.bodies)

    def header(self, name: str) -> str | None:
        start = self.messages[0]
        assert start["type"] == "http.response.start"
        for key, value in start["headers"]:
            if key == name.lower().encode():
                return str(value.decode("latin-1"))
        return None


async def drive(
    app: Any,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
    wire: Wire | None = None,
    raw_path: str | None = None,
) -> Wire:
    """Call the ASGI app with a made-up scope, as a server would."""
    scope, _ = build_scope(app, path, method=method, headers=headers or {})
    if raw_path is not None:
        scope["path"] = raw_path
        scope["raw_path"] = raw_path.encode()
    scope["extensions"] = extensions or {}
    wire = wire or Wire()
    with anyio.fail_after(10):
        await app(scope, wire.receive, wire.send)
    return wire


# -- the static route -------------------------------------------------------------------


def test_static_file(files_app: MicroASGI, files_client: TestClient) -> None:
    with files_app.test_request_context():
        assert url_for("static", filename="hello.txt") == "/static/hello.txt"
    response = files_client.get("/static/hello.txt")
    assert response.status_code == 200
    assert response.data == b"Hello, static world!\n"
    assert response.mimetype == "text/plain"
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.headers["Content-Length"] == "21"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Content-Disposition"] == "inline; filename=hello.txt"
    mtime = os.stat(STATIC / "hello.txt").st_mtime
    assert response.headers["Last-Modified"] == formatdate(mtime, usegmt=True)
    assert response.headers["ETag"].startswith(f'"{mtime}-21-')


def test_static_nested_file(files_client: TestClient) -> None:
    response = files_client.get("/static/css/site.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert response.text == "body { color: #333; }\n"


@pytest.mark.parametrize("path", ["/static/missing.txt", "/static/css", "/static/css/"])
def test_static_missing_or_directory_is_404(files_client: TestClient, path: str) -> None:
    assert files_client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("value", "expected"),
    [(60, "public, max-age=60"), (timedelta(hours=1), "public, max-age=3600")],
)
def test_static_max_age_from_config(files_app: MicroASGI, value: Any, expected: str) -> None:
    files_app.config["SEND_FILE_MAX_AGE_DEFAULT"] = value
    response = files_app.test_client().get("/static/hello.txt")
    assert response.headers["Cache-Control"] == expected
    expires = parsedate_to_datetime(response.headers["Expires"])
    assert expires > datetime.now(timezone.utc)


def test_static_url_path_and_folder(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("console.log(1);\n")
    app = MicroASGI(
        "files_app", root_path=str(tmp_path), static_folder="assets", static_url_path="/s"
    )
    with app.test_request_context():
        assert url_for("static", filename="app.js") == "/s/app.js"
    response = app.test_client().get("/s/app.js")
    assert response.text == "console.log(1);\n"
    assert response.mimetype in ("text/javascript", "application/javascript")


def test_head_sends_headers_only(files_client: TestClient) -> None:
    response = files_client.head("/static/alphabet.txt")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "26"
    assert response.headers["Accept-Ranges"] == "bytes"


# -- send_file from views ------------------------------------------------------------------


def test_relative_path_is_relative_to_root_path(files_app: MicroASGI) -> None:
    @files_app.get("/notes")
    def notes() -> Any:
        return send_file("files/notes.txt")

    response = files_app.test_client().get("/notes")
    assert response.text == "Quarterly notes\n"
    assert response.headers["Content-Disposition"] == "inline; filename=notes.txt"


def test_async_view(files_app: MicroASGI) -> None:
    @files_app.get("/notes")
    async def notes() -> Any:
        return send_file(FIXTURE / "files" / "notes.txt", max_age=10)

    response = files_app.test_client().get("/notes")
    assert response.text == "Quarterly notes\n"
    assert response.headers["Cache-Control"] == "public, max-age=10"


def test_send_from_directory_view(files_app: MicroASGI) -> None:
    @files_app.get("/files/<path:name>")
    def files(name: str) -> Any:
        return send_from_directory("files", name, as_attachment=True)

    client = files_app.test_client()
    response = client.get("/files/notes.txt")
    assert response.text == "Quarterly notes\n"
    assert response.headers["Content-Disposition"] == "attachment; filename=notes.txt"
    assert client.get("/files/nope.txt").status_code == 404
    assert client.get("/files/%2e%2e/secret.txt").status_code == 404


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"as_attachment": True}, "attachment; filename=alphabet.txt"),
        ({"download_name": "letters.txt"}, "inline; filename=letters.txt"),
        ({"download_name": "my letters.txt"}, 'inline; filename="my letters.txt"'),
        (
            {"download_name": 'say "hi".txt', "as_attachment": True},
            'attachment; filename="say \\"hi\\".txt"',
        ),
        (
            {"download_name": "Ñandú/pingüino.txt", "as_attachment": True},
            "attachment; filename=\"Nandu/pinguino.txt\"; filename*=UTF-8''"
            "%C3%91and%C3%BA%2Fping%C3%BCino.txt",
        ),
        (
            {"download_name": "日本語.txt"},
            "inline; filename=.txt; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt",
        ),
    ],
)
def test_content_disposition(files_app: MicroASGI, kwargs: dict[str, Any], expected: str) -> None:
    @files_app.get("/download")
    def download() -> Any:
        return send_file(STATIC / "alphabet.txt", **kwargs)

    response = files_app.test_client().get("/download")
    assert response.headers["Content-Disposition"] == expected
    assert response.data == ALPHABET


@pytest.mark.parametrize(
    ("kwargs", "mimetype"),
    [
        ({}, "text/plain"),
        ({"mimetype": "application/x-letters"}, "application/x-letters"),
        ({"download_name": "letters.json"}, "application/json"),
        ({"download_name": "letters"}, "application/octet-stream"),
    ],
)
def test_mimetype(files_app: MicroASGI, kwargs: dict[str, Any], mimetype: str) -> None:
    @files_app.get("/download")
    def download() -> Any:
        return send_file(STATIC / "alphabet.txt", **kwargs)

    assert files_app.test_client().get("/download").mimetype == mimetype


def test_compressed_download_name_sets_content_encoding(files_app: MicroASGI) -> None:
    @files_app.get("/backup")
    def backup() -> Any:
        attachment = request.args.get("attachment") == "1"
        return send_file(io.BytesIO(b"x"), download_name="b.tar.gz", as_attachment=attachment)

    client = files_app.test_client()
    inline = client.get("/backup")
    assert inline.mimetype == "application/x-tar"
    assert inline.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in client.get("/backup?attachment=1").headers


@pytest.mark.parametrize(
    ("max_age", "expected"),
    [
        (None, "no-cache"),
        (0, "no-cache, max-age=0"),
        (120, "public, max-age=120"),
        (lambda path: 7 if path.endswith(".txt") else None, "public, max-age=7"),
        (lambda path: None, "no-cache"),
    ],
)
def test_max_age(files_app: MicroASGI, max_age: Any, expected: str) -> None:
    @files_app.get("/download")
    def download() -> Any:
        return send_file(STATIC / "alphabet.txt", max_age=max_age)

    response = files_app.test_client().get("/download")
    assert response.headers["Cache-Control"] == expected
    assert ("Expires" in response.headers) == (expected != "no-cache")


def test_explicit_etag_and_last_modified(files_app: MicroASGI) -> None:
    when = datetime(2024, 5, 1, 12, 30, 15)

    @files_app.get("/custom")
    def custom() -> Any:
        return send_file(STATIC / "alphabet.txt", etag="v1", last_modified=when)

    @files_app.get("/plain")
    def plain() -> Any:
        return send_file(STATIC / "alphabet.txt", etag=False, last_modified=1_700_000_000)

    client = files_app.test_client()
    response = client.get("/custom")
    assert response.headers["ETag"] == '"v1"'
    assert response.headers["Last-Modified"] == "Wed, 01 May 2024 12:30:15 GMT"
    assert client.get("/custom", headers={"If-None-Match": '"v1"'}).status_code == 304
    response = client.get("/plain")
    assert "ETag" not in response.headers
    assert response.headers["Last-Modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"


def test_after_request_sees_the_file_body(files_app: MicroASGI) -> None:
    @files_app.after_request
    def measure(response: Any) -> Any:
        response.headers["X-Body-Length"] = str(len(response.get_data()))
        return response

    response = files_app.test_client().get("/static/alphabet.txt")
    assert response.data == ALPHABET
    assert response.headers["X-Body-Length"] == "26"
    assert response.headers["Content-Length"] == "26"


# -- conditional requests ---------------------------------------------------------------


def test_if_none_match_gives_304(files_client: TestClient) -> None:
    first = files_client.get("/static/alphabet.txt")
    etag = first.headers["ETag"]
    response = files_client.get("/static/alphabet.txt", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert "Content-Length" not in response.headers
    assert "Content-Type" not in response.headers


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("{etag}", 304),
        ("W/{etag}", 304),  # If-None-Match uses the weak comparison
        ('"other", {etag}', 304),
        ("*", 304),
        ('"other"', 200),
        ("", 200),
    ],
)
def test_if_none_match_forms(files_client: TestClient, header: str, status: int) -> None:
    etag = files_client.get("/static/alphabet.txt").headers["ETag"]
    headers = {"If-None-Match": header.format(etag=etag)}
    response = files_client.get("/static/alphabet.txt", headers=headers)
    assert response.status_code == status
    assert response.data == (b"" if status == 304 else ALPHABET)


def test_if_modified_since(files_client: TestClient) -> None:
    last_modified = files_client.get("/static/alphabet.txt").headers["Last-Modified"]
    earlier = formatdate(parsedate_to_datetime(last_modified).timestamp() - 10, usegmt=True)
    later = formatdate(parsedate_to_datetime(last_modified).timestamp() + 10, usegmt=True)

    def status(headers: dict[str, str]) -> int:
        return int(files_client.get("/static/alphabet.txt", headers=headers).status_code)

    assert status({"If-Modified-Since": last_modified}) == 304
    assert status({"If-Modified-Since": later}) == 304
    assert status({"If-Modified-Since": earlier}) == 200
    assert status({"If-Modified-Since": "not a date"}) == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3).
    assert status({"If-Modified-Since": last_modified, "If-None-Match": '"other"'}) == 200


def test_if_match_failure_is_412(files_client: TestClient) -> None:
    etag = files_client.get("/static/alphabet.txt").headers["ETag"]
    ok = files_client.get("/static/alphabet.txt", headers={"If-Match": etag})
    assert ok.status_code == 200
    failed = files_client.get("/static/alphabet.txt", headers={"If-Match": '"other"'})
    assert failed.status_code == 412


def test_not_conditional(files_app: MicroASGI) -> None:
    @files_app.get("/download")
    def download() -> Any:
        return send_file(STATIC / "alphabet.txt", conditional=False)

    client = files_app.test_client()
    etag = client.get("/download").headers["ETag"]
    response = client.get("/download", headers={"If-None-Match": etag, "Range": "bytes=0-1"})
    assert response.status_code == 200
    assert response.data == ALPHABET
    assert "Accept-Ranges" not in response.headers


# -- ranges --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "body", "content_range"),
    [
        ("bytes=0-4", b"abcde", "bytes 0-4/26"),
        ("bytes=25-25", b"z", "bytes 25-25/26"),
        ("bytes=20-", b"uvwxyz", "bytes 20-25/26"),
        ("bytes=-3", b"xyz", "bytes 23-25/26"),
        ("bytes=-100", ALPHABET, "bytes 0-25/26"),
        ("bytes=5-1000", ALPHABET[5:], "bytes 5-25/26"),
        ("Bytes = 1 - 2", b"bc", "bytes 1-2/26"),
    ],
)
def test_range(files_client: TestClient, header: str, body: bytes, content_range: str) -> None:
    response = files_client.get("/static/alphabet.txt", headers={"Range": header})
    assert response.status_code == 206
    assert response.data == body
    assert response.headers["Content-Range"] == content_range
    assert response.headers["Content-Length"] == str(len(body))
    assert response.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize("header", ["bytes=26-", "bytes=100-200"])
def test_unsatisfiable_range_is_416(files_client: TestClient, header: str) -> None:
    response = files_client.get("/static/alphabet.txt", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */26"


@pytest.mark.parametrize(
    "header",
    ["bytes=abc", "bytes=", "bytes=-", "bytes=5-2", "items=0-5", "0-5", "bytes=0-1,3-4"],
)
def test_malformed_or_multiple_ranges_send_everything(
    files_client: TestClient, header: str
) -> None:
    response = files_client.get("/static/alphabet.txt", headers={"Range": header})
    assert response.status_code == 200
    assert response.data == ALPHABET
    assert "Content-Range" not in response.headers


def test_if_range(files_client: TestClient) -> None:
    first = files_client.get("/static/alphabet.txt")
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    earlier = formatdate(parsedate_to_datetime(last_modified).timestamp() - 10, usegmt=True)

    def fetch(if_range: str) -> Any:
        headers = {"Range": "bytes=0-2", "If-Range": if_range}
        return files_client.get("/static/alphabet.txt", headers=headers)

    assert fetch(etag).status_code == 206
    assert fetch(etag).data == b"abc"
    assert fetch(last_modified).status_code == 206
    for stale in ('"old"', f"W/{etag}", earlier, "garbage"):
        response = fetch(stale)
        assert response.status_code == 200, stale
        assert response.data == ALPHABET


def test_head_with_range(files_client: TestClient) -> None:
    response = files_client.head("/static/alphabet.txt", headers={"Range": "bytes=2-5"})
    assert response.status_code == 206
    assert response.data == b""
    assert response.headers["Content-Length"] == "4"
    assert response.headers["Content-Range"] == "bytes 2-5/26"


def test_304_wins_over_range(files_client: TestClient) -> None:
    etag = files_client.get("/static/alphabet.txt").headers["ETag"]
    headers = {"If-None-Match": etag, "Range": "bytes=0-1"}
    assert files_client.get("/static/alphabet.txt", headers=headers).status_code == 304


# -- file objects -------------------------------------------------------------------------


class TrackedBytesIO(io.BytesIO):
    """A BytesIO that counts its reads."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        return super().read(size)


def test_bytesio_body(files_app: MicroASGI) -> None:
    files: list[TrackedBytesIO] = []

    @files_app.get("/report")
    def report() -> Any:
        files.append(TrackedBytesIO(b"col1,col2\n1,2\n"))
        return send_file(files[-1], mimetype="text/csv")

    client = files_app.test_client()
    response = client.get("/report")
    assert response.data == b"col1,col2\n1,2\n"
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Length"] == "14"
    assert "ETag" not in response.headers
    assert "Content-Disposition" not in response.headers
    assert files[-1].closed
    ranged = client.get("/report", headers={"Range": "bytes=5-8"})
    assert ranged.status_code == 206
    assert ranged.data == b"col2"
    assert files[-1].closed
    head = client.head("/report")
    assert head.data == b""
    assert head.headers["Content-Length"] == "14"
    assert files[-1].closed
    assert files[-1].reads == 0


def test_bytesio_sent_from_its_position(files_app: MicroASGI) -> None:
    @files_app.get("/rest")
    def rest() -> Any:
        buffer = io.BytesIO(ALPHABET)
        buffer.seek(20)
        return send_file(buffer, download_name="rest.txt")

    client = files_app.test_client()
    response = client.get("/rest")
    assert response.data == b"uvwxyz"
    assert response.headers["Content-Length"] == "6"
    ranged = client.get("/rest", headers={"Range": "bytes=1-2"})
    assert ranged.data == b"vw"
    assert ranged.headers["Content-Range"] == "bytes 1-2/6"


def test_real_file_object(files_app: MicroASGI) -> None:
    opened: list[Any] = []

    @files_app.get("/letters")
    def letters() -> Any:
        opened.append(open(STATIC / "alphabet.txt", "rb"))  # noqa: SIM115 - send_file closes it
        return send_file(opened[-1], mimetype="text/plain")

    client = files_app.test_client()
    response = client.get("/letters")
    assert response.data == ALPHABET
    assert response.headers["Content-Length"] == "26"
    assert opened[-1].closed
    ranged = client.get("/letters", headers={"Range": "bytes=-2"})
    assert ranged.data == b"yz"
    assert opened[-1].closed


async def test_unsized_file_object_is_streamed(files_app: MicroASGI) -> None:
    class Reader(io.RawIOBase):
        def __init__(self) -> None:
            self.parts = [b"one ", b"two ", b"three"]

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if not self.parts:
                return 0
            part = self.parts.pop(0)
            buffer[: len(part)] = part
            return len(part)

    @files_app.get("/stream")
    def stream() -> Any:
        return send_file(cast(IO[bytes], Reader()), mimetype="text/plain")

    wire = await drive(files_app, "/stream", headers={"Range": "bytes=0-1"})
    assert wire.messages[0]["status"] == 200
    assert wire.body == b"one two three"
    assert len(wire.bodies) == 4  # short reads are not taken for the end of a file object
    assert wire.header("content-length") is None
    assert wire.header("accept-ranges") is None


def test_file_object_errors(files_app: MicroASGI) -> None:
    with files_app.test_request_context():
        with pytest.raises(ValueError, match="mimetype="):
            send_file(io.BytesIO(b"x"))
        with pytest.raises(ValueError, match="download_name="):
            send_file(io.BytesIO(b"x"), mimetype="text/plain", as_attachment=True)
        with pytest.raises(ValueError, match="binary mode"):
            send_file(io.StringIO("x"), mimetype="text/plain")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="double quote"):
            send_file(STATIC / "hello.txt", etag='a"b')


def test_file_object_closed_on_416(files_app: MicroASGI) -> None:
    files: list[io.BytesIO] = []

    @files_app.get("/report")
    def report() -> Any:
        files.append(io.BytesIO(b"short"))
        return send_file(files[-1], mimetype="text/plain")

    response = files_app.test_client().get("/report", headers={"Range": "bytes=10-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */5"
    assert files[-1].closed


# -- streaming, pathsend and disconnects ----------------------------------------------------------


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "static" / "big.bin"
    path.parent.mkdir()
    block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB
    path.write_bytes(block * 80 + b"tail")  # 5 MiB and a bit
    return path


async def test_large_file_is_streamed_in_chunks(big_file: Path) -> None:
    app = make_app(big_file.parent.parent)
    wire = await drive(app, "/static/big.bin")
    assert wire.messages[0]["status"] == 200
    size = big_file.stat().st_size
    assert wire.header("content-length") == str(size)
    assert len(wire.bodies) > 50
    assert all(len(m["body"]) <= CHUNK_SIZE for m in wire.bodies)
    assert hashlib.sha256(wire.body).digest() == hashlib.sha256(big_file.read_bytes()).digest()
    assert not wire.bodies[-1].get("more_body", False)


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE - 7]
)
async def test_chunk_boundaries(tmp_path: Path, size: int) -> None:
    (tmp_path / "static").mkdir()
    data = (ALPHABET * (size // 26 + 1))[:size]
    (tmp_path / "static" / "f.bin").write_bytes(data)
    wire = await drive(make_app(tmp_path), "/static/f.bin")
    assert wire.body == data
    assert wire.header("content-length") == str(size)
    if size < CHUNK_SIZE:
        assert len(wire.bodies) == 1  # read whole in one trip to a worker thread
    else:
        assert len(wire.bodies[0]["body"]) == CHUNK_SIZE


def test_empty_file_ignores_range(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "empty.txt").write_bytes(b"")
    response = (
        make_app(tmp_path).test_client().get("/static/empty.txt", headers={"Range": "bytes=0-"})
    )
    assert response.status_code == 200
    assert response.data == b""


async def test_large_range_is_streamed(big_file: Path) -> None:
    app = make_app(big_file.parent.parent)
    start, end = 100_000, 3_000_000
    wire = await drive(app, "/static/big.bin", headers={"Range": f"bytes={start}-{end}"})
    assert wire.messages[0]["status"] == 206
    assert wire.header("content-length") == str(end - start + 1)
    assert len(wire.bodies) > 10
    assert wire.body == big_file.read_bytes()[start : end + 1]


async def test_pathsend(files_app: MicroASGI) -> None:
    wire = await drive(files_app, "/static/hello.txt", extensions={"http.response.pathsend": {}})
    start, pathsend = wire.messages
    assert start["type"] == "http.response.start"
    assert start["status"] == 200
    assert wire.header("content-length") == "21"
    assert wire.header("content-type") == "text/plain; charset=utf-8"
    assert pathsend == {"type": "http.response.pathsend", "path": str(STATIC / "hello.txt")}
    assert os.path.isabs(pathsend["path"])
    assert wire.bodies == []


@pytest.mark.parametrize(
    ("method", "headers", "status"),
    [("GET", {"Range": "bytes=0-2"}, 206), ("HEAD", {}, 200)],
)
async def test_no_pathsend_for_ranges_and_head(
    files_app: MicroASGI, method: str, headers: dict[str, str], status: int
) -> None:
    extensions: dict[str, Any] = {"http.response.pathsend": {}}
    wire = await drive(
        files_app, "/static/alphabet.txt", method=method, headers=headers, extensions=extensions
    )
    assert wire.messages[0]["status"] == status
    assert all(m["type"] != "http.response.pathsend" for m in wire.messages)
    assert wire.body == (b"abc" if method == "GET" else b"")


async def test_no_pathsend_for_file_objects(files_app: MicroASGI) -> None:
    @files_app.get("/report")
    def report() -> Any:
        return send_file(io.BytesIO(b"data"), mimetype="text/plain")

    wire = await drive(files_app, "/report", extensions={"http.response.pathsend": {}})
    assert [m["type"] for m in wire.messages] == ["http.response.start", "http.response.body"]
    assert wire.body == b"data"


async def test_disconnect_mid_file_closes_it(files_app: MicroASGI) -> None:
    data = bytes(range(256)) * 16384  # 4 MiB: 64 chunks
    file = TrackedBytesIO(data)

    @files_app.get("/download")
    def download() -> Any:
        return send_file(file, mimetype="application/octet-stream")

    wire = await drive(files_app, "/download", wire=Wire(disconnect_after_chunks=1))
    assert file.closed
    assert 0 < len(wire.body) < len(data)
    assert file.reads < 10


async def test_file_response_as_plain_asgi_app() -> None:
    response = FileResponse(STATIC / "alphabet.txt", headers={"X-Kind": "letters"})
    scope, _ = build_scope(MicroASGI("bare", root_path=str(FIXTURE)), "/")
    wire = Wire()
    with anyio.fail_after(10):
        await response(scope, wire.receive, wire.send)
    assert wire.body == ALPHABET
    assert wire.header("content-type") == "application/octet-stream"
    assert wire.header("x-kind") == "letters"
    assert response.path == str(STATIC / "alphabet.txt")


def test_send_file_outside_a_request(files_app: MicroASGI) -> None:
    with files_app.app_context():
        response = send_file("static/alphabet.txt")
    assert response.get_data() == ALPHABET
    assert response.status_code == 200


# -- path traversal ---------------------------------------------------------------------


@pytest.fixture
def seen_endpoints(files_app: MicroASGI) -> list[str | None]:
    seen: list[str | None] = []

    @files_app.before_request
    def record() -> None:
        seen.append(request.endpoint)

    return seen


@pytest.mark.parametrize(
    "path",
    [
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/css/%2e%2e/%2e%2e/secret.txt",
        "/static/%252e%252e/secret.txt",
        "/static/%252e%252e%252fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/css%5c..%5c..%5csecret.txt",
        "/static/hello.txt%00",
        "/static/%00../secret.txt",
        "/static/C:/Windows/win.ini",
    ],
)
def test_traversal_through_the_static_route_is_404(
    files_client: TestClient, seen_endpoints: list[str | None], path: str
) -> None:
    response = files_client.get(path)
    assert response.status_code == 404
    assert b"top secret" not in response.data
    # The static view was reached: the 404 is its refusal, not a routing miss.
    assert seen_endpoints == ["static"]


@pytest.mark.parametrize("path", ["/static//etc/passwd", "/static/%2fetc/passwd"])
def test_absolute_path_through_the_static_route_is_404(files_client: TestClient, path: str) -> None:
    response = files_client.get(path)
    assert response.status_code == 404
    assert b"root:" not in response.data


@pytest.mark.parametrize(
    "raw_path", ["/static/../secret.txt", "/static/css/../../secret.txt", "/static/./../secret.txt"]
)
async def test_literal_dot_dot_from_a_server_is_404(files_app: MicroASGI, raw_path: str) -> None:
    # httpx normalises "../" away; a server may pass it through as is.
    wire = await drive(files_app, "/", raw_path=raw_path)
    assert wire.messages[0]["status"] == 404
    assert b"top secret" not in wire.body


@pytest.fixture
def linked_root(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "site")
    root = tmp_path / "site"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.txt").write_text("private data\n")
    static = root / "static"
    try:
        (static / "escape.txt").symlink_to(root / "secret.txt")
        (static / "escape_dir").symlink_to(outside, target_is_directory=True)
        (static / "alias.txt").symlink_to(static / "hello.txt")
        (static / "alias_dir").symlink_to(static / "css", target_is_directory=True)
    except OSError:  # pragma: no cover - no symlinks on this platform
        pytest.skip("symlinks are not available")
    return root


@pytest.mark.parametrize("path", ["/static/escape.txt", "/static/escape_dir/private.txt"])
def test_symlink_out_of_static_is_404(linked_root: Path, path: str) -> None:
    response = make_app(linked_root).test_client().get(path)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/static/alias.txt", b"Hello, static world!\n"),
        ("/static/alias_dir/site.css", b"body { color: #333; }\n"),
    ],
)
def test_symlink_inside_static_is_served(linked_root: Path, path: str, body: bytes) -> None:
    response = make_app(linked_root).test_client().get(path)
    assert response.status_code == 200
    assert response.data == body


def test_send_from_directory_refuses(files_app: MicroASGI) -> None:
    with files_app.test_request_context():
        for name in ("../secret.txt", "/etc/passwd", "missing.txt", "css", ""):
            with pytest.raises(NotFound):
                send_from_directory("static", name)
        assert send_from_directory("static", "css/site.css").status_code == 200


# -- safe_join -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pathnames", "expected"),
    [
        (("hello.txt",), "hello.txt"),
        (("css/site.css",), "css/site.css"),
        (("css", "site.css"), "css/site.css"),
        (("./css//site.css",), "css/site.css"),
        (("%2e%2e",), "%2e%2e"),  # a literal name, not a parent
        (("..hidden",), "..hidden"),
        (("a..b/c",), "a..b/c"),
        (("",), None),
        ((), None),
    ],
)
def test_safe_join_accepts(pathnames: tuple[str, ...], expected: str | None) -> None:
    base = str(STATIC)
    result = safe_join(base, *pathnames)
    assert result == (base if expected is None else f"{base}/{expected}")


@pytest.mark.parametrize(
    "pathname",
    [
        "..",
        "../secret.txt",
        "css/../../secret.txt",
        "css/../hello.txt",  # refused even though it stays inside: ".." is never needed
        "css/..",
        "/etc/passwd",
        "//etc/passwd",
        "..\\secret.txt",
        "css\\site.css",
        "hello.txt\x00.png",
        "C:/Windows/win.ini",
        "c:secret.txt",
    ],
)
def test_safe_join_refuses(pathname: str) -> None:
    assert safe_join(str(STATIC), pathname) is None
    assert safe_join(str(STATIC), "css", pathname) is None


def test_safe_join_resolves_symlinks(linked_root: Path) -> None:
    static = str(linked_root / "static")
    assert safe_join(static, "escape.txt") is None
    assert safe_join(static, "escape_dir", "private.txt") is None
    assert safe_join(static, "alias.txt") == f"{static}/alias.txt"
    assert safe_join(static, "alias_dir/site.css") == f"{static}/alias_dir/site.css"


def test_safe_join_through_a_symlinked_directory(tmp_path: Path) -> None:
    # The folder itself may be a symlink (macOS's /tmp is one): compared by real path.
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.txt").write_text("a")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    assert safe_join(str(tmp_path / "link"), "a.txt") == f"{tmp_path}/link/a.txt"
    assert safe_join(str(tmp_path / "link"), "../real/a.txt") is None


def test_safe_join_empty_directory_means_current() -> None:
    assert safe_join("", "a.txt") == "./a.txt"
