"""Flask (WSGI): served by gunicorn directly, or as ASGI behind a WSGI bridge.

``app`` is the WSGI app; ``wsgiapp`` is it behind ``microasgi.WSGIApp`` and
``a2wsgi_app`` behind ``a2wsgi.WSGIMiddleware`` (both built on first access,
so a bridge that fails to import only fails the rows that use it).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request

from ..routes_github import RouteSpec, answer, to_syntax
from ._common import FORTUNE_TEMPLATE, FORTUNES, HELLO, MESSAGE, TEMPLATES, static_dir

app = Flask(__name__, static_folder=static_dir(), template_folder=str(TEMPLATES))

_TEXT = {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/plaintext")
def plaintext() -> Any:
    return HELLO, _TEXT


@app.get("/json")
def json_view() -> Any:
    return MESSAGE


@app.get("/users/<int:user_id>")
def user(user_id: int) -> Any:
    return str(user_id), _TEXT


@app.post("/echo")
def echo() -> Any:
    return request.get_json()


@app.get("/sync")
def sync() -> Any:
    return HELLO, _TEXT


@app.get("/fortunes")
def fortunes() -> Any:
    return render_template(FORTUNE_TEMPLATE, fortunes=FORTUNES)


def _view(route: RouteSpec) -> Any:
    def view(**params: Any) -> Any:
        return answer(route, params)

    return view


def routing_app(routes: list[RouteSpec]) -> Flask:
    """One ``add_url_rule`` per (method, path), in table order (WSGI)."""
    routing = Flask(__name__, static_folder=None)
    for index, route in enumerate(routes):
        routing.add_url_rule(
            to_syntax(route.path, "flask"),
            endpoint=f"r{index}",
            view_func=_view(route),
            methods=[route.method],
        )
    return routing


def __getattr__(name: str) -> Any:
    if name == "wsgiapp":
        from microasgi.wsgi import WSGIApp

        bridged: Any = WSGIApp(app)
    elif name == "a2wsgi_app":
        from a2wsgi import WSGIMiddleware

        bridged = WSGIMiddleware(app)  # type: ignore[arg-type]
    else:
        raise AttributeError(name)
    globals()[name] = bridged
    return bridged
