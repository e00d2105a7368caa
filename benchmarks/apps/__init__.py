"""The peers: one small app per framework with the same endpoints (see ``_common``).

:data:`PEERS` drives the in-process runner (each peer's ASGI callable) and
:data:`TARGETS` the network runner (a peer under a given server).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

ROUTING = frozenset(
    {"github-static", "github-param", "github-deep", "github-404", "many-first", "many-last"}
)
#: The typed-routes set: only the peers with ``typed=True`` (a ``typed_app()``) run it.
TYPED = frozenset(
    f"{kind}-{name}"
    for kind in ("typed", "untyped")
    for name in ("query", "body", "nested", "invalid")
)
_FLOOR = ("plaintext", "json", "path-param")
WSGI_ONLY = frozenset({"plaintext", "json", "post-json", "fortunes", "static-1mb"})


@dataclass(frozen=True)
class Peer:
    """A framework's app as an ASGI callable.

    ``module:attr`` is the app; ``routing`` says the module has
    ``routing_app(routes)`` (an ASGI app for a route table), ``typed`` that it has
    ``typed_app()`` (typed routes and their untyped twins). ``skip`` lists the
    scenarios that do not apply, ``notes`` a footnote per scenario.
    """

    name: str
    module: str
    attr: str = "app"
    routing: bool = True
    typed: bool = False
    only: frozenset[str] | None = None
    skip: frozenset[str] = frozenset()
    notes: dict[str, str] = field(default_factory=dict)
    package: str = ""

    def supports(self, scenario: str) -> bool:
        if scenario in self.skip or (self.only is not None and scenario not in self.only):
            return False
        if scenario in TYPED:
            return self.typed
        return self.routing or scenario not in ROUTING

    def load(self) -> Any:
        return getattr(importlib.import_module(self.module), self.attr)

    def load_routing(self, routes: Any) -> Any:
        return importlib.import_module(self.module).routing_app(routes)

    def load_typed(self) -> Any:
        return importlib.import_module(self.module).typed_app()


PEERS: list[Peer] = [
    Peer(
        "raw",
        "benchmarks.apps.raw",
        routing=False,
        skip=frozenset({"sync"}),
        notes={"static-1mb": "one read of the whole file in the loop's executor, one body message"},
    ),
    # The least any framework does (a request object in a context variable, a route
    # dict, a response object): how close to raw a framework can be at best.
    Peer("floor", "benchmarks.apps.floor", routing=False, only=frozenset(_FLOOR)),
    Peer("starlette", "benchmarks.apps.starlette", package="starlette"),
    Peer("fastapi", "benchmarks.apps.fastapi", package="fastapi", typed=True),
    Peer("quart", "benchmarks.apps.quart", package="quart"),
    Peer("litestar", "benchmarks.apps.litestar", package="litestar", typed=True),
    Peer(
        "blacksheep",
        "benchmarks.apps.blacksheep",
        package="blacksheep",
        notes={"sync": "runs def views on the event loop, no thread"},
    ),
    Peer("falcon", "benchmarks.apps.falcon", package="falcon"),
    Peer("microasgi", "benchmarks.apps.microasgi", package="microasgi", typed=True),
    Peer(
        "flask+WSGIApp",
        "benchmarks.apps.flask",
        attr="wsgiapp",
        routing=False,
        only=WSGI_ONLY,
        package="flask",
    ),
    Peer(
        "flask+a2wsgi",
        "benchmarks.apps.flask",
        attr="a2wsgi_app",
        routing=False,
        only=WSGI_ONLY,
        package="a2wsgi",
    ),
]
PEER_BY_NAME = {peer.name: peer for peer in PEERS}


@dataclass(frozen=True)
class Target:
    """A peer under a server, for the network runner.

    ``server`` is ``uvicorn``, ``granian``, ``gunicorn-sync`` or
    ``gunicorn-gthread``; ``peer`` names the :class:`Peer` whose scenarios
    (and module) it serves; WSGI servers take ``wsgi_attr`` of the module.
    """

    name: str
    peer: str
    server: str = "uvicorn"
    only: frozenset[str] | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def note(self, scenario: str) -> str | None:
        return self.notes.get(scenario) or PEER_BY_NAME[self.peer].notes.get(scenario)

    def supports(self, scenario: str) -> bool:
        if self.only is not None and scenario not in self.only:
            return False
        if self.server.startswith("gunicorn") and scenario == "websocket":
            return False
        return PEER_BY_NAME[self.peer].supports(scenario)


_PATHSEND = {"static-1mb": "the file goes to granian through the ASGI pathsend extension"}
_GRANIAN = frozenset({"plaintext", "json", "fortunes", "static-1mb", "websocket"})
TARGETS: list[Target] = [
    Target("raw", "raw"),
    Target("raw·granian", "raw", "granian", only=_GRANIAN, notes=_PATHSEND),
    Target("floor", "floor"),
    Target("starlette", "starlette"),
    Target("fastapi", "fastapi"),
    Target("quart", "quart"),
    Target("litestar", "litestar"),
    Target("blacksheep", "blacksheep"),
    Target("falcon", "falcon"),
    Target("microasgi", "microasgi"),
    Target("microasgi·granian", "microasgi", "granian", only=_GRANIAN, notes=_PATHSEND),
    Target("flask·gunicorn-sync", "flask+WSGIApp", "gunicorn-sync"),
    Target("flask·gunicorn-gthread", "flask+WSGIApp", "gunicorn-gthread"),
    Target("flask+WSGIApp", "flask+WSGIApp"),
    Target("flask+a2wsgi", "flask+a2wsgi"),
]
TARGET_BY_NAME = {target.name: target for target in TARGETS}
