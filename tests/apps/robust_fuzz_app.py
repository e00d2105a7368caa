"""One app using every feature, for the robustness fuzzers (tests/test_robustness.py, tests/fuzz/).

No route raises on purpose: whatever a client sends, a 5xx from this app is a bug.
``make_app(static_dir)`` fills ``static_dir`` with a few files and serves them.

Features: converters (int, signed int, float, path, uuid, any, string), forms and
uploads, JSON, sessions (``SECRET_KEY`` set), the static folder, ``send_file``
with ranges and conditionals, a blueprint with its own error handlers, a mounted
:class:`microasgi.WSGIApp`, ``stream=True`` routes (async and sync readers),
sync and async views, sync and async generator views, templates, redirects,
``url_for``, hooks (before, after, teardown), flashing and ``abort``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

from microasgi import (
    Blueprint,
    MicroASGI,
    Response,
    WSGIApp,
    abort,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template_string,
    request,
    send_file,
    session,
    url_for,
)

STATIC_FILES = {
    "hello.txt": b"hello static world\n",
    "empty.txt": b"",
    "style.css": b"body { color: red; }\n" * 50,
    "sub/data.json": b'{"k": [1, 2, 3]}',
    "big.bin": bytes(range(256)) * 600,  # > 64 KiB: read in several chunks
}


def _wsgi_echo(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A tiny WSGI app: reads the whole body and echoes what it saw."""
    body = environ["wsgi.input"].read()
    lines = [
        environ["REQUEST_METHOD"],
        environ["SCRIPT_NAME"],
        environ["PATH_INFO"],
        environ["QUERY_STRING"],
        environ.get("CONTENT_TYPE", ""),
        str(len(body)),
    ]
    payload = "\n".join(lines).encode("utf-8", "surrogateescape")
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [payload]


def _request_summary() -> dict[str, Any]:
    """Touch most of the request object's properties (each computed lazily)."""
    return {
        "method": request.method,
        "path": request.path,
        "full_path": request.full_path,
        "url": request.url,
        "base_url": request.base_url,
        "url_root": request.url_root,
        "host": request.host,
        "script_root": request.script_root,
        "scheme": request.scheme,
        "args": request.args.to_dict(flat=False),
        "cookies": request.cookies,
        "headers": len(list(request.headers.items())),
        "mimetype": request.mimetype,
        "mimetype_params": request.mimetype_params,
        "is_json": request.is_json,
        "accept_html": request.accept_mimetypes.best_match(["text/html", "application/json"]),
        "user_agent": request.user_agent.string,
        "remote_addr": request.remote_addr,
        "endpoint": request.endpoint,
        "blueprint": request.blueprint,
    }


def make_app(static_dir: Path) -> MicroASGI:
    """The fuzz app, serving (and first filling) ``static_dir`` at ``/static``."""
    for name, content in STATIC_FILES.items():
        target = static_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)

    app = MicroASGI(
        "robust_fuzz",
        root_path=str(static_dir),
        static_folder=str(static_dir),
        static_url_path="/static",
    )
    app.config.update(
        PROPAGATE_EXCEPTIONS=False,
        SECRET_KEY="fuzz secret",
        MAX_CONTENT_LENGTH=64 * 1024,
        BODY_MEMORY_LIMIT=512,  # bigger bodies are spooled to a temporary file
        MAX_FORM_MEMORY_SIZE=4096,
        MAX_FORM_PARTS=50,
        MAX_QUERY_FIELDS=100,
        SYNC_THREAD_LIMIT=4,
    )

    # -- hooks -------------------------------------------------------------------

    @app.before_request
    def before() -> None:
        g.seen = request.path

    @app.after_request
    async def after(response: Response) -> Response:
        response.headers["X-Fuzz"] = "1"
        return response

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        g.pop("seen", None)

    # -- plain views, sync and async ----------------------------------------------

    @app.route("/", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def index() -> dict[str, Any]:
        return _request_summary()

    @app.route("/sync", methods=["GET", "POST", "PUT", "DELETE"])
    def sync_view() -> dict[str, Any]:
        return _request_summary()

    @app.get("/text")
    def text() -> str:
        return "plain text"

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH"])
    def echo() -> dict[str, Any]:
        files = {
            key: [storage.filename, len(storage.read())] for key, storage in request.files.items()
        }
        return {
            "len": len(request.get_data()),
            "text": request.get_data(as_text=True)[:50],
            "form": request.form.to_dict(flat=False),
            "values": len(request.values),
            "files": files,
            "json": request.get_json(silent=True),
            "content_length": request.content_length,
            "stream": len(request.stream.read()),
        }

    @app.route("/aecho", methods=["POST", "PUT"])
    async def aecho() -> dict[str, Any]:
        return {
            "form": request.form.to_dict(),
            "files": list(request.files),
            "data": len(request.data),
            "text": request.get_data(as_text=True)[:20],
        }

    @app.route("/json", methods=["POST", "PUT"])
    async def json_view() -> Any:
        data = request.get_json()
        return {"type": type(data).__name__, "echo": data if isinstance(data, dict) else None}

    @app.post("/json-sync")
    def json_sync() -> Any:
        return {"json": request.json, "forced": request.get_json(force=True, silent=True)}

    @app.route("/form", methods=["POST", "PUT"])
    def form() -> dict[str, Any]:
        name = request.form.get("name", "")
        return {"name": name, "fields": len(request.form), "files": len(request.files)}

    # -- converters --------------------------------------------------------------

    @app.get("/int/<int:n>")
    def int_view(n: int) -> str:
        return str(n)

    @app.get("/signed/<int(signed=True):n>/<int(min=1, max=99):m>")
    async def signed_view(n: int, m: int) -> str:
        return f"{n} {m}"

    @app.get("/float/<float:x>")
    async def float_view(x: float) -> str:
        return repr(x)

    @app.get("/path/<path:rest>")
    def path_view(rest: str) -> dict[str, Any]:
        return {"rest": rest, "url": url_for("path_view", rest=rest, _external=True)}

    @app.get("/uuid/<uuid:u>")
    async def uuid_view(u: uuid.UUID) -> str:
        return str(u)

    @app.get("/any/<any(red, green, blue):colour>/<name>")
    def any_view(colour: str, name: str) -> str:
        return f"{colour}:{name}"

    @app.get("/slash/")
    async def slash() -> str:  # /slash redirects here (308)
        return "slash"

    @app.get("/args/<int:page>")
    def typed_args(page: int) -> dict[str, Any]:
        return {
            "page": page,
            "size": request.args.get("size", 10, type=int),
            "q": request.args.getlist("q"),
            "values": request.values.to_dict(),
        }

    # -- templates, redirects, abort, flashing -------------------------------------

    @app.get("/template")
    def template() -> str:
        return render_template_string(
            "<p>{{ request.args.get('q', '') }}</p><a href='{{ url_for('index') }}'>home</a>"
            "{% for m in get_flashed_messages() %}<i>{{ m }}</i>{% endfor %}"
        )

    @app.get("/redirect")
    async def go() -> Response:
        return redirect(request.args.get("to", "/"))

    @app.get("/abort/<int:code>")
    def do_abort(code: int) -> str:
        if 400 <= code < 500 and code in (400, 401, 403, 404, 409, 410, 418, 422, 429):
            abort(code)
        return "not aborted"

    @app.route("/flash", methods=["GET", "POST"])
    def do_flash() -> Any:
        flash(request.args.get("m", "hi"))
        return {"flashes": get_flashed_messages()}

    # -- sessions ------------------------------------------------------------------

    @app.route("/session", methods=["GET", "POST"])
    def session_view() -> dict[str, Any]:
        session["count"] = int(session.get("count", 0) or 0) + 1
        if request.args.get("permanent"):
            session.permanent = True
        return {"count": session["count"], "keys": sorted(session.keys())}

    @app.get("/session/read")
    async def session_read() -> dict[str, Any]:
        return {"count": session.get("count")}

    # -- files -----------------------------------------------------------------------

    @app.get("/file/<name>")
    def file_view(name: str) -> Any:
        path = static_dir / "hello.txt" if name != "big" else static_dir / "big.bin"
        return send_file(path, as_attachment=request.args.get("dl") == "1")

    @app.get("/file-obj")
    async def file_obj() -> Any:
        import io

        return send_file(io.BytesIO(b"in memory " * 20), mimetype="text/plain")

    # -- streaming responses: generators ---------------------------------------------

    @app.get("/gen/<int:n>")
    def sync_gen(n: int) -> Response:
        def chunks() -> Iterator[str]:
            for i in range(min(n, 20)):
                yield f"chunk {i}\n"

        return Response(chunks(), mimetype="text/plain")

    @app.get("/agen/<int:n>")
    async def async_gen(n: int) -> Any:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(min(n, 20)):
                yield f"achunk {i}\n".encode()

        return chunks()

    @app.get("/gen-return")
    def gen_return() -> Any:
        return (f"{i}," for i in range(5))

    # -- streamed request bodies (stream=True) -------------------------------------------

    @app.route("/upload", methods=["POST", "PUT"], stream=True)
    async def upload() -> dict[str, Any]:
        total = 0
        async for chunk in request.stream:
            total += len(chunk)
        return {"total": total}

    @app.route("/upload-sync", methods=["POST", "PUT"], stream=True)
    def upload_sync() -> dict[str, Any]:
        total = 0
        while part := request.stream.read(100):
            total += len(part)
        return {"total": total, "content_length": request.content_length}

    # -- a blueprint with its own error handlers ---------------------------------------

    bp = Blueprint("shop", __name__, url_prefix="/shop")
    items = {"apple": 3, "pear": 5}

    class OutOfStock(Exception):
        pass

    @bp.errorhandler(404)
    def bp_not_found(error: Any) -> Any:
        return {"error": "no such shop page"}, 404

    @bp.errorhandler(KeyError)
    def bp_key_error(error: KeyError) -> Any:
        return {"error": "unknown item"}, 404

    @bp.errorhandler(OutOfStock)
    async def bp_out_of_stock(error: OutOfStock) -> Any:
        return {"error": "out of stock"}, 409

    @bp.get("/item/<name>")
    def item(name: str) -> dict[str, Any]:
        count = items[name]  # KeyError: the blueprint's handler answers 404
        if request.args.get("buy", type=int) and request.args.get("buy", type=int) > count:
            raise OutOfStock(name)
        return {"name": name, "count": count}

    @bp.route("/order", methods=["POST"])
    async def order() -> dict[str, Any]:
        data = request.get_json(silent=True) or {}
        name = data.get("name") if isinstance(data, dict) else None
        if not isinstance(name, str):
            abort(400, "name is required")
        return {"ordered": items[name]}

    app.register_blueprint(bp)

    # -- a mounted WSGI app --------------------------------------------------------------

    app.mount("/wsgi", WSGIApp(_wsgi_echo))
    return app
