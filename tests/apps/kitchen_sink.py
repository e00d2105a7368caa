"""A typed API with every kind of parameter and model: its spec is checked by
tests/test_openapi.py (shape, openapi-spec-validator) and its behaviour against
that spec by tests/test_schemathesis.py.

What it covers: parameters from the path (int, float, uuid, any, string
converters), the query string (scalars, constrained, lists, ``Literal``, dates,
optional), headers and cookies (typed, required and optional), urlencoded form
fields, multipart files, and JSON bodies of every model kind (msgspec
``Struct``, dataclass, ``TypedDict``, attrs, pydantic v2), with unions, nested and
recursive models and lists; ``def`` and ``async def`` views, a Flask-style view,
blueprints (nested), ``MethodView`` (on the app and in a blueprint), declared
error responses and bearer security that the views enforce.

Every view echoes what it was given, so that the checks of its responses against
the spec mean something.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Annotated, Any, Literal, TypedDict

import attrs
import msgspec
import pydantic
from werkzeug.datastructures import FileStorage

from microasgi import (
    Blueprint,
    Body,
    Cookie,
    File,
    Form,
    Header,
    MicroASGI,
    Problem,
    Query,
    Response,
    request,
)
from microasgi.views import MethodView

#: The one bearer token the secured routes accept.
TOKEN = "kitchen-sink-token"


class Tag(msgspec.Struct):
    name: str


class Node(msgspec.Struct):
    """A tree: a recursive model."""

    value: int
    children: list[Node] = []


class PetIn(msgspec.Struct, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, examples=["Rex"])]
    tags: list[Tag] = []
    kind: Literal["cat", "dog"] | None = None


class Pet(PetIn, kw_only=True):
    id: int


class Cat(msgspec.Struct, tag="cat"):
    """One side of a tagged union."""

    lives: Annotated[int, msgspec.Meta(ge=0, le=9)]


class Dog(msgspec.Struct, tag="dog"):
    """The other side."""

    good: bool = True


class Address(TypedDict):
    street: str
    city: str


@dataclasses.dataclass
class Owner:
    name: str
    pets: list[int] = dataclasses.field(default_factory=list)
    address: Address | None = None


@attrs.define
class Toy:
    name: str
    price: float = 0.0


@dataclasses.dataclass
class Basket:
    """A dataclass that holds attrs classes."""

    toys: list[Toy]
    note: str | None = None


class Clinic(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(strict=True)

    city: str


class Vet(pydantic.BaseModel):
    # Strict: pydantic's default (lax) mode takes 0 for False and "1" for 1, which
    # the JSON schema it writes does not say; a lax model's spec would promise less
    # than the server accepts.
    model_config = pydantic.ConfigDict(strict=True)

    name: str
    licensed: bool = True
    clinic: Clinic | None = None


class Echo(msgspec.Struct, kw_only=True):
    """What /echo was given, from the path, the query string, headers and cookies."""

    ratio: float
    count: int
    color: Literal["red", "green"]
    flags: list[int]
    when: datetime.date | None
    session: uuid.UUID | None
    loud: bool


class Upload(msgspec.Struct, kw_only=True):
    """What /upload received."""

    title: str
    note: str | None
    size: int | None
    extras: list[int]


class Settings(msgspec.Struct, kw_only=True):
    """What /settings/<id> received, from a urlencoded form."""

    id: int
    name: str
    level: int
    ratio: float | None
    public: bool
    labels: list[str]


def _unauthorized() -> Response | None:
    """A 401 problem unless the request carries the bearer token."""
    auth = request.authorization
    if auth is not None and auth.type == "bearer" and auth.token == TOKEN:
        return None
    problem = Problem(type="about:blank", title="Unauthorized", status=401)
    return Response(
        msgspec.json.encode(problem),
        401,
        mimetype="application/problem+json",
        headers={"WWW-Authenticate": "Bearer"},
    )


class Items(MethodView):
    """Items, one class-based view."""

    async def get(self, page: Annotated[int, Query(description="Page, from 1")] = 1) -> list[Pet]:
        """List items.

        Paged."""
        return [Pet(id=page, name="item")]

    def post(self, item: Toy) -> Toy:
        """Create an item."""
        return item


class BasketView(MethodView):
    """A class-based view in a blueprint."""

    def get(self, basket_id: int, note: str | None = None) -> Basket:
        """Show a basket."""
        return Basket(toys=[Toy(name=f"toy {basket_id}")], note=note)

    async def put(self, basket_id: int, basket: Basket) -> Basket:
        """Replace a basket."""
        return basket


def kitchen_sink() -> MicroASGI:
    """The app, new each call."""
    app = MicroASGI("kitchen", static_folder=None)
    app.config["TESTING"] = True
    app.security_schemes = {"bearer": {"type": "http", "scheme": "bearer"}}

    @app.get("/pets/<int:pet_id>", responses={404: Problem})
    async def get_pet(
        pet_id: int,
        fields: Annotated[list[str], Query()] = [],  # noqa: B006
        trace: Annotated[str | None, Header("X-Trace", examples=["abc"])] = None,
        theme: Annotated[str, Cookie()] = "light",
    ) -> Pet:
        """Get a pet.

        The first docstring line is the summary, the rest the description."""
        return Pet(id=pet_id, name=trace or theme or "Rex", tags=[Tag(f) for f in fields])

    @app.post("/pets", status_code=201, security="bearer", responses={401: Problem})
    def create_pet(pet: PetIn) -> Pet:
        denied = _unauthorized()
        if denied is not None:
            return denied  # type: ignore[return-value]
        return Pet(id=1, name=pet.name, tags=pet.tags, kind=pet.kind)

    @app.put("/owners/<name>")
    async def put_owner(name: str, owner: Owner) -> Owner:
        return dataclasses.replace(owner, name=name)

    @app.post("/addresses")
    async def add_address(address: Address, dry: bool = False) -> Address:
        return address

    @app.post("/vets")
    async def add_vet(vet: Vet) -> Vet:
        return vet

    @app.post("/trees")
    def plant(tree: Node) -> Node | None:
        return tree if tree.children else None

    @app.post("/animals")
    async def adopt(animal: Cat | Dog) -> Cat | Dog:
        """A union of models as the body."""
        return animal

    @app.post("/numbers")
    async def numbers(values: Annotated[list[int], Body(description="Numbers")]) -> dict[str, int]:
        return {"sum": sum(values), "count": len(values)}

    @app.get("/echo/<float:ratio>")
    def echo(
        ratio: float,
        count: Annotated[int, Header("X-Count"), msgspec.Meta(ge=0)],
        color: Literal["red", "green"] = "red",
        flags: Annotated[list[int], Query()] = [],  # noqa: B006
        when: datetime.date | None = None,
        session: Annotated[uuid.UUID | None, Cookie()] = None,
        loud: Annotated[bool, Header("X-Loud")] = False,
    ) -> Echo:
        """Echo the path, query, header and cookie parameters."""
        return Echo(
            ratio=ratio,
            count=count,
            color=color,
            flags=flags,
            when=when,
            session=session,
            loud=loud,
        )

    @app.post("/upload")
    async def upload(
        title: Annotated[str, Form()],
        note: Annotated[str | None, Form()] = None,
        file: Annotated[FileStorage, File()] = None,  # type: ignore[assignment]
        extras: Annotated[list[bytes], File()] = [],  # noqa: B006
    ) -> Upload:
        size = len(file.read()) if file is not None else None
        return Upload(title=title, note=note, size=size, extras=[len(e) for e in extras])

    @app.post("/login")
    def login(user: Annotated[str, Form()], password: Annotated[str, Form()]) -> str:
        return user

    @app.post("/settings/<int:settings_id>")
    def settings(
        settings_id: int,
        name: Annotated[str, Form()],
        level: Annotated[int, Form(), msgspec.Meta(ge=1, le=5)],
        ratio: Annotated[float | None, Form()] = None,
        public: Annotated[bool, Form()] = False,
        labels: Annotated[list[str], Form()] = [],  # noqa: B006
    ) -> Settings:
        """Urlencoded form fields of several types."""
        return Settings(
            id=settings_id, name=name, level=level, ratio=ratio, public=public, labels=labels
        )

    @app.route("/plain/<any(a, b):kind>/<uuid:ref>", methods=["GET", "POST"])
    def plain(kind: Any, ref: Any) -> str:
        """A Flask-style view."""
        return f"{kind} {ref}"

    @app.get("/search")
    async def search(q: str, limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10) -> list[Pet]:
        return [Pet(id=limit, name=q)] if q else []

    @app.get("/hidden", include_in_schema=False)
    async def hidden() -> str:
        return "not in the spec"

    app.add_url_rule("/items", view_func=Items.as_view("items"))

    shop = Blueprint("shop", __name__, url_prefix="/shop")
    shop.security = "bearer"
    admin = Blueprint("admin", __name__, url_prefix="/admin")

    @shop.get("/toys/<int:toy_id>", responses={401: Problem})
    async def get_toy(toy_id: int) -> Toy:
        """Get a toy."""
        denied = _unauthorized()
        if denied is not None:
            return denied  # type: ignore[return-value]
        return Toy(name=f"toy {toy_id}")

    @admin.delete("/toys/<int:toy_id>", status_code=204, security=[])
    async def delete_toy(toy_id: int) -> None:
        return None

    admin.add_url_rule(
        "/baskets/<int:basket_id>", view_func=BasketView.as_view("basket"), security=[]
    )
    shop.register_blueprint(admin)
    app.register_blueprint(shop)
    return app
