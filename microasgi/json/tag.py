"""Tagged JSON, as Flask's ``json.tag``: JSON that round-trips tuples, bytes, markup,
UUIDs and datetimes.

The session cookie is written with it. A value JSON cannot hold is stored as a
one-key object whose key names its type (``{" t": [1, 2]}`` is the tuple
``(1, 2)``), in Flask's format, so a cookie signed by a Flask app opens here
with the same secret key, and the other way round.

Support another type by subclassing :class:`JSONTag` and registering it::

    from collections import OrderedDict
    from microasgi.json.tag import JSONTag

    class TagOrderedDict(JSONTag):
        key = " od"

        def check(self, value):
            return isinstance(value, OrderedDict)

        def to_json(self, value):
            return [[k, self.serializer.tag(v)] for k, v in value.items()]

        def to_python(self, value):
            return OrderedDict(value)

    # Before the plain dict tags: an OrderedDict is a dict too.
    app.session_interface.serializer.register(TagOrderedDict, index=0)
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from markupsafe import Markup
from werkzeug.http import http_date, parse_date

from . import dumps
from . import loads as loads

__all__ = [
    "JSONTag",
    "PassDict",
    "PassList",
    "TagBytes",
    "TagDateTime",
    "TagDict",
    "TagMarkup",
    "TagTuple",
    "TagUUID",
    "TaggedJSONSerializer",
]


class JSONTag:
    """One type the serializer can tag: subclass it, set :attr:`key`, implement the three
    methods, and :meth:`TaggedJSONSerializer.register` it."""

    __slots__ = ("serializer",)

    #: The one key of the tagged object (``" t"``); empty for a tag that only walks
    #: into a container and leaves no mark.
    key: ClassVar[str] = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        self.serializer = serializer

    def check(self, value: Any) -> bool:
        """Whether this tag handles ``value``."""
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        """``value`` as something JSON can hold (tag its items with ``serializer.tag``)."""
        raise NotImplementedError

    def to_python(self, value: Any) -> Any:
        """The value :meth:`to_json` made, back as the Python type."""
        raise NotImplementedError

    def tag(self, value: Any) -> Any:
        """``value`` as JSON, marked with :attr:`key`."""
        return {self.key: self.to_json(value)}


class TagDict(JSONTag):
    """A one-key dict whose key is a tag's key: its key gets a ``__`` suffix, so
    loading it does not mistake it for a tagged value."""

    __slots__ = ()
    key = " di"

    def check(self, value: Any) -> bool:
        if not isinstance(value, dict) or len(value) != 1:
            return False
        return next(iter(value)) in self.serializer.tags

    def to_json(self, value: Any) -> Any:
        key = next(iter(value))
        return {f"{key}__": self.serializer.tag(value[key])}

    def to_python(self, value: Any) -> Any:
        key = next(iter(value))
        return {key[:-2]: value[key]}


class PassDict(JSONTag):
    """Any other dict: its values are tagged, the dict itself is not."""

    __slots__ = ()

    def check(self, value: Any) -> bool:
        return isinstance(value, dict)

    def to_json(self, value: Any) -> Any:
        tag = self.serializer.tag
        return {key: tag(item) for key, item in value.items()}

    tag = to_json


class TagTuple(JSONTag):
    """A tuple, as a list of its tagged items."""

    __slots__ = ()
    key = " t"

    def check(self, value: Any) -> bool:
        return isinstance(value, tuple)

    def to_json(self, value: Any) -> Any:
        tag = self.serializer.tag
        return [tag(item) for item in value]

    def to_python(self, value: Any) -> Any:
        return tuple(value)


class PassList(JSONTag):
    """A list: its items are tagged, the list itself is not."""

    __slots__ = ()

    def check(self, value: Any) -> bool:
        return isinstance(value, list)

    def to_json(self, value: Any) -> Any:
        tag = self.serializer.tag
        return [tag(item) for item in value]

    tag = to_json


class TagBytes(JSONTag):
    """Bytes, as base64 text."""

    __slots__ = ()
    key = " b"

    def check(self, value: Any) -> bool:
        return isinstance(value, bytes)

    def to_json(self, value: Any) -> Any:
        return b64encode(value).decode("ascii")

    def to_python(self, value: Any) -> Any:
        return b64decode(value)


class TagMarkup(JSONTag):
    """Anything with an ``__html__`` method (``Markup``), as its markup; loads as ``Markup``."""

    __slots__ = ()
    key = " m"

    def check(self, value: Any) -> bool:
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: Any) -> Any:
        return str(value.__html__())

    def to_python(self, value: Any) -> Any:
        return Markup(value)


class TagUUID(JSONTag):
    """A ``UUID``, as its hex digits."""

    __slots__ = ()
    key = " u"

    def check(self, value: Any) -> bool:
        return isinstance(value, UUID)

    def to_json(self, value: Any) -> Any:
        return value.hex

    def to_python(self, value: Any) -> Any:
        return UUID(value)


class TagDateTime(JSONTag):
    """A ``datetime``, as an HTTP date (to the second; loads timezone-aware, in UTC)."""

    __slots__ = ()
    key = " d"

    def check(self, value: Any) -> bool:
        return isinstance(value, datetime)

    def to_json(self, value: Any) -> Any:
        return http_date(value)

    def to_python(self, value: Any) -> Any:
        return parse_date(value)


class TaggedJSONSerializer:
    """Compact JSON that keeps the types its tags know (Flask's session serializer).

    The default tags handle one-key dicts that look like tags, dicts, tuples,
    lists, bytes, markup, UUIDs and datetimes; :meth:`register` adds more.
    """

    #: The tags a new serializer registers, in the order they are tried.
    default_tags: ClassVar[list[type[JSONTag]]] = [
        TagDict,
        PassDict,
        TagTuple,
        PassList,
        TagBytes,
        TagMarkup,
        TagUUID,
        TagDateTime,
    ]

    def __init__(self) -> None:
        self.tags: dict[str, JSONTag] = {}
        self.order: list[JSONTag] = []
        for tag_class in self.default_tags:
            self.register(tag_class)

    def register(
        self, tag_class: type[JSONTag], force: bool = False, index: int | None = None
    ) -> None:
        """Add a tag, tried last (or at ``index`` in the order: a special case of a type
        another tag handles goes before it).

        A key already registered raises ``KeyError`` unless ``force`` replaces it.
        """
        tag = tag_class(self)
        key = tag.key
        if key:
            if key in self.tags and not force:
                raise KeyError(f"Tag {key!r} is already registered; pass force=True to replace it.")
            self.tags[key] = tag
        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)

    def tag(self, value: Any) -> Any:
        """``value`` as plain JSON data, with the first tag that handles it applied."""
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)
        return value

    def untag(self, value: dict[str, Any]) -> Any:
        """The Python value a tagged object stands for (``value`` itself if untagged)."""
        if len(value) != 1:
            return value
        key = next(iter(value))
        tag = self.tags.get(key)
        if tag is None:
            return value
        return tag.to_python(value[key])

    def dumps(self, value: Any) -> str:
        """``value`` tagged, as compact JSON (through the current app's JSON provider)."""
        return dumps(self.tag(value), separators=(",", ":"))

    def loads(self, value: str | bytes) -> Any:
        """Parse what :meth:`dumps` wrote, restoring the tagged types."""
        # Inner objects first, as the parser builds them: the order Flask untags in.
        return json.loads(value, object_hook=self.untag)
