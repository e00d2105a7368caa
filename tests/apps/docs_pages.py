"""A small typed API, served with its docs pages, for the browser test (tests/test_browser.py).

``outer`` is a Starlette app with one copy mounted at ``/api`` and one at the
root, so one server shows the pages both at a prefix and without one.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from starlette.applications import Starlette
from starlette.routing import Mount

from microasgi import MicroASGI, Problem, Query, request


class PetIn(msgspec.Struct, kw_only=True):
    name: str
    tag: str | None = None


class Pet(PetIn, kw_only=True):
    id: int


def make_app() -> MicroASGI:
    """The pets API."""
    app = MicroASGI(__name__)
    pets = {1: Pet(id=1, name="Rex")}

    @app.get("/pets/<int:pet_id>", responses={404: Problem})
    async def get_pet(pet_id: int, fields: Annotated[list[str] | None, Query()] = None) -> Pet:
        """Get a pet."""
        return pets[pet_id]

    @app.post("/pets", status_code=201)
    async def create_pet(pet: PetIn) -> Pet:
        """Add a pet."""
        new = Pet(id=len(pets) + 1, name=pet.name, tag=pet.tag)
        pets[new.id] = new
        return new

    @app.get("/openapi.json")
    async def spec() -> dict[str, Any]:
        # Until app.openapi() serves it: a small OpenAPI 3.1 document of the two routes.
        return {
            "openapi": "3.1.0",
            "info": {"title": "Pets", "version": "1.0"},
            "servers": [{"url": request.root_path or "/"}],
            "paths": {
                "/pets/{pet_id}": {
                    "get": {
                        "operationId": "get_pet",
                        "summary": "Get a pet.",
                        "parameters": [
                            {
                                "name": "pet_id",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "integer"},
                            }
                        ],
                        "responses": {"200": {"description": "The pet."}},
                    }
                },
                "/pets": {
                    "post": {
                        "operationId": "create_pet",
                        "summary": "Add a pet.",
                        "responses": {"201": {"description": "The new pet."}},
                    }
                },
            },
        }

    return app


app = make_app()
outer = Starlette(routes=[Mount("/api", app=make_app()), Mount("/", app=app)])
