"""A small pet store API written with typed views (docs/api.md).

Views declare what they take with type hints; microasgi validates every
request before a view runs, answers mistakes with RFC 9457 problem details,
and documents the whole API as OpenAPI 3.1, with Swagger UI and ReDoc pages
that work offline. Run it from the repository root::

    python -m examples.petstore                     # http://127.0.0.1:5000/docs
    microasgi --app examples.petstore.app:app run --port 8000 --reload

then open ``/docs`` (Swagger UI), ``/redoc`` (ReDoc) or ``/openapi.json``.
``microasgi --app examples.petstore.app openapi`` prints the spec.

The pets live in memory, in a :class:`PetStore` per app: ``def`` views run in
worker threads and ``async def`` views on the event loop, so its lock guards
every change.
"""

from __future__ import annotations

import itertools
import threading
from typing import Annotated

import msgspec
from werkzeug.datastructures import FileStorage

from microasgi import (
    Blueprint,
    File,
    Form,
    Header,
    MicroASGI,
    Problem,
    Query,
    Response,
    current_app,
)
from microasgi.exceptions import NotFound
from microasgi.typed import ProblemException, UnsupportedBody

# -- models: msgspec Structs; their constraints are validated and documented ----------

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["Rex"])]
IdempotencyKey = Annotated[str, msgspec.Meta(min_length=8, max_length=64)]


class PetIn(msgspec.Struct, kw_only=True):
    """A pet as a client sends it."""

    name: Name
    tag: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None


class Pet(PetIn, kw_only=True):
    """A pet in the store."""

    id: int


class Photo(msgspec.Struct, kw_only=True):
    """What the store kept of an uploaded photo."""

    pet_id: int
    filename: str
    content_type: str
    size: int
    caption: str | None = None


class OrderIn(msgspec.Struct, kw_only=True):
    """An order as a client places it."""

    pet_id: int
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1


class Order(OrderIn, kw_only=True):
    """A placed order."""

    id: int


# -- errors of our own, as problem details -----------------------------------------------


class NotFoundProblem(ProblemException, NotFound):
    """404 as ``application/problem+json``, like the errors microasgi writes itself."""


def not_found(what: str, ident: int) -> NotFoundProblem:
    """A 404 as problem details (written by the app's problem formatter when raised)."""
    return NotFoundProblem(f"There is no {what} {ident}.")


# -- storage ---------------------------------------------------------------------------


class PetStore:
    """Pets, their photos and orders, in memory; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pet_ids = itertools.count(1)
        self._order_ids = itertools.count(1)
        self.pets: dict[int, Pet] = {}
        self.photos: dict[int, tuple[Photo, bytes]] = {}
        self.orders: dict[int, Order] = {}
        self.idempotency: dict[str, int] = {}

    def add_pet(self, pet: PetIn, key: str | None = None) -> Pet:
        """Store a new pet; a repeated ``key`` gives the pet its first request made."""
        with self._lock:
            if key is not None and key in self.idempotency:
                return self.pets[self.idempotency[key]]
            new = Pet(id=next(self._pet_ids), name=pet.name, tag=pet.tag)
            self.pets[new.id] = new
            if key is not None:
                self.idempotency[key] = new.id
            return new

    def find_pets(self, tag: str | None = None) -> list[Pet]:
        """Every pet, or those with ``tag``, oldest first."""
        with self._lock:  # a def view in a worker may be adding one meanwhile
            return [pet for pet in self.pets.values() if tag is None or pet.tag == tag]

    def replace_pet(self, pet_id: int, pet: PetIn) -> Pet | None:
        """The pet with new fields, or ``None`` if there is no such pet."""
        with self._lock:
            if pet_id not in self.pets:
                return None
            new = self.pets[pet_id] = Pet(id=pet_id, name=pet.name, tag=pet.tag)
            return new

    def remove_pet(self, pet_id: int) -> bool:
        """Remove a pet and its photo; whether it was there."""
        with self._lock:
            self.photos.pop(pet_id, None)
            return self.pets.pop(pet_id, None) is not None

    def set_photo(self, photo: Photo, data: bytes) -> bool:
        """Keep a pet's photo (replacing the one before); whether the pet exists."""
        with self._lock:
            if photo.pet_id not in self.pets:
                return False
            self.photos[photo.pet_id] = (photo, data)
            return True

    def add_order(self, order: OrderIn) -> Order | None:
        """Place an order, or ``None`` if its pet does not exist."""
        with self._lock:
            if order.pet_id not in self.pets:
                return None
            new = Order(id=next(self._order_ids), pet_id=order.pet_id, quantity=order.quantity)
            self.orders[new.id] = new
            return new


def store() -> PetStore:
    """The current app's store."""
    return current_app.extensions["petstore"]  # type: ignore[no-any-return]


# -- the pets ----------------------------------------------------------------------------

pets = Blueprint("pets", __name__, url_prefix="/pets")

PHOTO_TYPES = ("image/png", "image/jpeg", "image/webp")


@pets.get("")
async def list_pets(
    limit: Annotated[
        int, Query(description="How many pets at most."), msgspec.Meta(ge=1, le=100)
    ] = 20,
    offset: Annotated[int, Query(description="How many pets to skip."), msgspec.Meta(ge=0)] = 0,
    tag: Annotated[str | None, Query(description="Only pets with this tag.")] = None,
) -> list[Pet]:
    """List pets.

    The pets in the order they were added, optionally only those with a tag.
    """
    return store().find_pets(tag)[offset : offset + limit]


@pets.get("/<int:pet_id>", responses={404: Problem})
async def get_pet(pet_id: int) -> Pet:
    """Get a pet."""
    pet = store().pets.get(pet_id)
    if pet is None:
        raise not_found("pet", pet_id)
    return pet


@pets.post("", status_code=201)
def create_pet(
    pet: PetIn,
    idempotency_key: Annotated[
        IdempotencyKey | None,
        Header(description="A key of your choice: the same key again gives the same pet."),
    ] = None,
) -> Pet:
    """Add a pet.

    A `def` view: the body is validated on the event loop, then the view runs in
    a worker thread. Send the same `Idempotency-Key` again to get the same pet back.
    """
    return store().add_pet(pet, idempotency_key)


@pets.put("/<int:pet_id>", responses={404: Problem})
def update_pet(pet_id: int, pet: PetIn) -> Pet:
    """Replace a pet's fields."""
    updated = store().replace_pet(pet_id, pet)
    if updated is None:
        raise not_found("pet", pet_id)
    return updated


@pets.delete("/<int:pet_id>", status_code=204, responses={404: Problem})
async def delete_pet(pet_id: int) -> None:
    """Delete a pet."""
    if not store().remove_pet(pet_id):
        raise not_found("pet", pet_id)


@pets.put("/<int:pet_id>/photo", status_code=201, responses={404: Problem, 415: Problem})
def upload_photo(
    pet_id: int,
    photo: Annotated[FileStorage, File(description="A PNG, JPEG or WebP image.")],
    caption: Annotated[str | None, Form()] = None,
) -> Photo:
    """Upload a pet's photo (a multipart form); it replaces the one before."""
    if photo.mimetype not in PHOTO_TYPES:
        raise UnsupportedBody(
            f"A photo must be one of {', '.join(PHOTO_TYPES)}, not {photo.mimetype!r}."
        )
    data = photo.read()
    kept = Photo(
        pet_id=pet_id,
        filename=photo.filename or "photo",
        content_type=photo.mimetype,
        size=len(data),
        caption=caption,
    )
    if not store().set_photo(kept, data):
        raise not_found("pet", pet_id)
    return kept


@pets.get("/<int:pet_id>/photo", responses={404: Problem})
async def get_photo(pet_id: int) -> Response:
    """Download a pet's photo."""
    found = store().photos.get(pet_id)
    if found is None:
        raise not_found("photo of pet", pet_id)
    info, data = found
    return Response(data, mimetype=info.content_type)


# -- the store: a blueprint, so its operations get the tag "store" -----------------------

orders = Blueprint("store", __name__, url_prefix="/store")


@orders.post("/orders", status_code=201, responses={404: Problem})
async def place_order(order: OrderIn) -> Order:
    """Place an order for a pet."""
    placed = store().add_order(order)
    if placed is None:
        raise not_found("pet", order.pet_id)
    return placed


@orders.get("/orders/<int:order_id>", responses={404: Problem})
async def get_order(order_id: int) -> Order:
    """Get an order."""
    order = store().orders.get(order_id)
    if order is None:
        raise not_found("order", order_id)
    return order


def create_app() -> MicroASGI:
    """The pet store, with an empty store of its own."""
    app = MicroASGI(__name__)
    app.config.update(
        API_TITLE="Pet store",
        API_VERSION="1.0.0",
        API_DESCRIPTION="A small API written with microasgi's typed views.",
    )
    app.extensions["petstore"] = PetStore()
    app.register_blueprint(pets)
    app.register_blueprint(orders)
    return app


app = create_app()
