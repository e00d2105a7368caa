"""The markers that say where a typed view's parameter comes from.

``Annotated[int, Query()]``, ``Annotated[str | None, Header("X-Trace")]``: each
marker names a place of the request (query string, headers, cookies, form
fields, uploaded files, the body) and may give the name it has there
(``alias``), a ``description`` and ``examples`` for the API's documentation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

#: The places a parameter can come from, as the error entries name them (``"in"``).
Place = Literal["path", "query", "header", "cookie", "form", "file", "body"]


class Param:
    """A marker for ``Annotated``: where a view's parameter comes from, and its docs.

    ``alias`` is the name in the request when it differs from the parameter's;
    ``description`` and ``examples`` are for the API's documentation.
    """

    __slots__ = ("alias", "description", "examples")

    place: ClassVar[Place]

    def __init__(
        self,
        alias: str | None = None,
        *,
        description: str | None = None,
        examples: Sequence[Any] | None = None,
    ) -> None:
        self.alias = alias
        self.description = description
        self.examples = list(examples) if examples is not None else None

    def __repr__(self) -> str:
        alias = repr(self.alias) if self.alias is not None else ""
        return f"{type(self).__name__}({alias})"


class Query(Param):
    """A query string parameter: ``page: Annotated[int, Query()] = 1``; a list takes every value."""

    __slots__ = ()
    place = "query"


class Header(Param):
    """A request header: ``trace: Annotated[str | None, Header("X-Trace")] = None``.

    Without an alias, the parameter's name with underscores as dashes
    (``user_agent`` reads ``User-Agent``); names are case-insensitive.
    """

    __slots__ = ()
    place = "header"


class Cookie(Param):
    """A cookie: ``theme: Annotated[str, Cookie()] = "light"``."""

    __slots__ = ()
    place = "cookie"


class Form(Param):
    """A field of a urlencoded or multipart body: ``name: Annotated[str, Form()]``."""

    __slots__ = ()
    place = "form"


class File(Param):
    """An uploaded file of a multipart body, as Werkzeug's ``FileStorage`` (or ``bytes``)."""

    __slots__ = ()
    place = "file"


class Body(Param):
    """The JSON body, for a type that is not a model by itself: ``Annotated[list[int], Body()]``."""

    __slots__ = ()
    place = "body"
