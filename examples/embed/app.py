"""microasgi inside FastAPI: ``uvicorn examples.embed.app:api``.

FastAPI serves ``/api``; a microasgi app with server-rendered pages and a
session is mounted at ``/site``. Everything the microasgi app builds (URLs,
redirects, the session cookie) carries the ``/site`` prefix. FastAPI sends no
lifespan to mounted apps, so microasgi runs its ``before_serving`` functions
before the first request instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from microasgi import MicroASGI, redirect, session, url_for

site = MicroASGI(__name__)
site.config["SECRET_KEY"] = "change me"
STARTED: list[str] = []


@site.before_serving
def start() -> None:
    STARTED.append("site started")


@site.get("/")
def home() -> str:
    visits = session.get("visits", 0) + 1
    session["visits"] = visits
    return f'<p>Visit {visits}. <a href="{url_for("about")}">About</a></p>'


@site.get("/about")
def about() -> str:
    return f"<p>This page is {url_for('about', _external=True)}</p>"


@site.get("/old-about")
def old_about() -> Any:
    return redirect(url_for("about"))


api = FastAPI()


@api.get("/api/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}


api.mount("/site", site)
