"""A tiny Flask app: routing, url_for, a form, an upload, a stream, a file, cookies, a session."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from flask import (
    Flask,
    Response,
    jsonify,
    redirect,
    request,
    send_file,
    session,
    stream_with_context,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse


def create_app() -> Flask:
    """A fresh Flask app."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="flask test secret")

    @app.get("/")
    def index() -> Response:
        return jsonify(
            hello=url_for("hello", name="ana"),
            external=url_for("hello", name="ana", _external=True),
            script_root=request.script_root,
            path=request.path,
        )

    @app.get("/hello/<name>")
    def hello(name: str) -> str:
        return f"Hello, {name}!"

    @app.get("/go")
    def go() -> BaseResponse:
        return redirect(url_for("hello", name="redirected"))

    @app.post("/form")
    def form() -> Response:
        return jsonify(dict(request.form))

    @app.post("/upload")
    def upload() -> Response:
        file = request.files["file"]
        data = file.read()
        return jsonify(
            filename=file.filename,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            note=request.form.get("note"),
        )

    @app.get("/stream")
    def stream() -> Response:
        def lines() -> Iterator[str]:
            for i in range(5):
                yield f"line {i} of {request.args.get('name', 'nobody')}\n"

        return Response(stream_with_context(lines()), mimetype="text/plain")

    @app.get("/download")
    def download() -> Response:
        return send_file(app.config["DOWNLOAD"], mimetype="application/octet-stream")

    @app.get("/cookie/set")
    def set_cookie() -> Response:
        response = jsonify(ok=True)
        response.set_cookie("flavor", "chocolate")
        response.set_cookie("size", "large")
        return response

    @app.get("/cookie/get")
    def get_cookie() -> Response:
        return jsonify(dict(request.cookies))

    @app.get("/count")
    def count() -> Response:
        session["count"] = session.get("count", 0) + 1
        return jsonify(count=session["count"])

    @app.get("/fail")
    def fail() -> str:
        raise RuntimeError("flask view failed")

    return app
