"""A legacy Flask app behind ``/legacy``, beside native microasgi routes.

Run it with ``microasgi --app examples.wsgi_mount.app:app run``. The Flask app
runs unchanged in worker threads (through :class:`microasgi.WSGIApp`); its
``url_for`` builds URLs under ``/legacy`` because the mount sets
``SCRIPT_NAME``. New endpoints are written natively next to it, and the two
can move over one route at a time.
"""

from __future__ import annotations

import flask

from microasgi import MicroASGI, WSGIApp

legacy = flask.Flask(__name__)


@legacy.route("/")
def legacy_index() -> str:
    return f"legacy home; orders are at {flask.url_for('legacy_orders')}"


@legacy.route("/orders", methods=["GET", "POST"])
def legacy_orders() -> flask.Response:
    if flask.request.method == "POST":
        return flask.jsonify(created=flask.request.form["item"]), 201
    return flask.jsonify(orders=["tea", "cake"])


app = MicroASGI(__name__)


@app.get("/")
async def index() -> str:
    return '<a href="/legacy/">the legacy app</a> | <a href="/api/health">native health</a>'


@app.get("/api/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "served_by": "microasgi"}


app.mount("/legacy", WSGIApp(legacy.wsgi_app))
