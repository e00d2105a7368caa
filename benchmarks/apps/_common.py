"""What every peer app shares: the data it serves and the route tables it registers.

Each peer module in this package builds the same endpoints from these:

========================  ===================================================
``GET /plaintext``        ``Hello, World!`` as text/plain
``GET /json``             ``{"message": "Hello, World!"}``
``GET /users/<int:id>``   the id as text
``POST /echo``            the JSON body, parsed and serialized back
``GET /sync``             ``Hello, World!`` from a synchronous (``def``) view
``GET /fortunes``         ``templates/fortunes.html`` (Jinja2, autoescaped),
                          a 10-row table
``GET /static/1mb.bin``   a 1 MiB file, through the framework's static files
``WS /ws``                echo every text message
========================  ===================================================

and a factory ``routing_app(routes)`` registering a route table (see
:mod:`benchmarks.routes_github`), each route answering :func:`params_text`.
"""

from __future__ import annotations

import os
import pathlib
import tempfile
from collections.abc import Mapping
from typing import Any

HELLO = "Hello, World!"
MESSAGE = {"message": HELLO}
TEMPLATES = pathlib.Path(__file__).parent / "templates"
FORTUNE_TEMPLATE = "fortunes.html"

# TechEmpower's fortunes, with the two rows an unescaped template gets wrong.
FORTUNES: list[dict[str, Any]] = [
    {"id": 1, "message": "fortune: No such file or directory"},
    {"id": 2, "message": "A computer scientist is someone who fixes things that aren't broken."},
    {"id": 3, "message": "After enough decimal places, nobody gives a damn."},
    {"id": 4, "message": "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"},
    {"id": 5, "message": "A computer program does what you tell it to do, not what you want."},
    {"id": 6, "message": "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen"},
    {"id": 7, "message": "Any program that runs right is obsolete."},
    {"id": 8, "message": "A list is only as strong as its weakest link. — Donald Knuth"},
    {"id": 9, "message": "Feature: A bug with seniority."},
    {
        "id": 10,
        "message": '<script>alert("This should not be displayed in a browser alert box.");'
        "</script>",
    },
]

STATIC_NAME = "1mb.bin"
STATIC_SIZE = 1 << 20


def static_bytes() -> bytes:
    """The 1 MiB file's content: deterministic, so the harness can check every byte."""
    return bytes(range(256)) * (STATIC_SIZE // 256)


def static_dir() -> str:
    """A temporary folder holding ``1mb.bin``, written on first use (atomically: many
    server processes may start at once)."""
    folder = pathlib.Path(tempfile.gettempdir()) / f"microasgi-bench-{os.getuid()}" / "static"
    target = folder / STATIC_NAME
    if not target.is_file() or target.stat().st_size != STATIC_SIZE:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder)
        with os.fdopen(fd, "wb") as file:
            file.write(static_bytes())
        os.replace(tmp, target)
    return str(folder)


def params_text(params: Mapping[str, Any]) -> str:
    """What a routing-table view answers: its parameters, sorted, as ``k=v`` pairs."""
    return "params:" + ",".join(f"{key}={params[key]}" for key in sorted(params))


def jinja_env() -> Any:
    """A plain Jinja2 environment over ``templates/`` (for peers without their own)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(),
    )


# -- typed routes ---------------------------------------------------------------------
#
# ``typed_app()`` in the microasgi, FastAPI and Litestar modules serves each request shape
# twice: ``/t/...`` declares its parameters and body as types (validated by the
# framework), ``/u/...`` does the same URL work by hand (path converter, query string,
# parsed JSON). Both answer the same JSON, computed from the input, so the work is real.
#
# ========================================  ============================================
# ``GET /t/items/42?q=shoe&limit=10``       ``{"item_id": 42, "q": "shoe", "limit": 10}``
# ``POST /t/items`` :data:`ITEM`            :func:`item_summary` (422 for a bad field)
# ``POST /t/orders`` :data:`ORDER`          :func:`order_summary`
# ========================================  ============================================

ITEM_QUERY = "q=shoe&limit=10"
#: A 5-field JSON body.
ITEM: dict[str, Any] = {
    "name": "Widget",
    "price": 9.5,
    "quantity": 3,
    "tags": ["red", "small"],
    "in_stock": True,
}
#: The same with one field of the wrong type: a 422 from a typed route.
BAD_ITEM: dict[str, Any] = {**ITEM, "quantity": "three"}
#: A nested body with 50 line items.
ORDER: dict[str, Any] = {
    "id": 7,
    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "lines": [{"sku": f"sku-{i:03d}", "quantity": i % 5 + 1, "price": i + 0.25} for i in range(50)],
}


def query_summary(item_id: int, q: str, limit: int) -> dict[str, Any]:
    """What ``GET /t/items/<id>`` answers."""
    return {"item_id": item_id, "q": q, "limit": limit}


def item_summary(name: str, price: float, quantity: int, tags: list[str], in_stock: bool) -> Any:
    """What ``POST /t/items`` answers: a total and a count computed from the fields."""
    return {"name": name, "total": price * quantity, "tags": len(tags), "in_stock": in_stock}


def order_summary(order_id: int, customer: str, lines: list[tuple[int, float]]) -> Any:
    """What ``POST /t/orders`` answers, from each line's ``(quantity, price)``."""
    total = 0.0
    for quantity, price in lines:
        total += quantity * price
    return {"id": order_id, "customer": customer, "lines": len(lines), "total": total}


#: What the untyped routes answer for a body they cannot use (a 422 written by hand).
UNTYPED_INVALID = {"detail": "invalid body"}
