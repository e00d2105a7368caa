"""What counts as a model, and how a type's values are decoded, validated and encoded.

A model is a msgspec ``Struct``, a dataclass, a ``TypedDict``, an attrs class, or
a pydantic v2 ``BaseModel``. msgspec handles all but pydantic's, in one pass
from JSON bytes (its typed decoders); a type that holds a pydantic model goes
through pydantic's ``TypeAdapter`` (``validate_json``). pydantic is never
imported here: a class can only be a pydantic model if pydantic is already
loaded, by the code that defined it.
"""

from __future__ import annotations

import dataclasses
import operator
import re
import sys
import types
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin, is_typeddict

import msgspec

#: A failure as the codec sees it: where in the value (``loc``), a short kind, a message.
Failure = tuple[tuple[str | int, ...], str, str]


class Invalid(Exception):
    """A value that does not match its type: each failure found."""

    def __init__(self, failures: list[Failure]) -> None:
        super().__init__(failures)
        self.failures = failures


class Malformed(Exception):
    """Bytes that are not JSON at all."""


def _is_pydantic_class(tp: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def is_model(tp: Any) -> bool:
    """Whether ``tp`` is a model class: Struct, dataclass, TypedDict, attrs or pydantic."""
    if not isinstance(tp, type):
        return False
    return (
        issubclass(tp, msgspec.Struct)
        or dataclasses.is_dataclass(tp)
        or is_typeddict(tp)
        or hasattr(tp, "__attrs_attrs__")
        or _is_pydantic_class(tp)
    )


def _parts(tp: Any) -> tuple[Any, ...]:
    origin = get_origin(tp)
    if origin is Annotated:
        return (get_args(tp)[0],)
    if origin is Literal:
        return ()
    return get_args(tp)


def holds(tp: Any, test: Callable[[Any], bool]) -> bool:
    """Whether ``tp`` or a type inside it (``list[T]``, ``T | None``, ...) passes ``test``."""
    return test(tp) or any(holds(arg, test) for arg in _parts(tp))


def strip_annotated(tp: Any) -> Any:
    """``T`` of ``Annotated[T, ...]``, else ``tp``."""
    return get_args(tp)[0] if get_origin(tp) is Annotated else tp


def is_union(tp: Any) -> bool:
    """Whether ``tp`` is ``A | B`` (or ``Optional[A]``)."""
    return get_origin(tp) in (Union, types.UnionType)


def _encode_hook(value: Any) -> Any:
    if _is_pydantic_class(type(value)):
        return value.model_dump(mode="json")
    raise NotImplementedError(f"Cannot encode {type(value).__name__} as JSON.")


_encoder = msgspec.json.Encoder(enc_hook=_encode_hook)


def encode(value: Any) -> bytes:
    """Encode any supported value (models, lists of them, builtins) as JSON."""
    return _encoder.encode(value)


def _instance_test(tp: Any) -> Callable[[Any], bool] | None:
    """A cheap check that a value already is ``tp``: for model classes, lists of them and
    unions of those; ``None`` when there is none (then the value is converted)."""
    tp = strip_annotated(tp)
    if isinstance(tp, type) and is_model(tp) and not is_typeddict(tp):
        return lambda value: isinstance(value, tp)
    if get_origin(tp) is list:
        (item,) = get_args(tp) or (Any,)
        test = _instance_test(item)
        if test is None:
            return None
        return lambda value: value.__class__ is list and all(map(test, value))
    if is_union(tp):
        tests = [_instance_test(arg) for arg in get_args(tp) if arg is not type(None)]
        if not tests or any(t is None for t in tests):
            return None
        none_ok = type(None) in get_args(tp)
        return lambda value: (value is None and none_ok) or any(t(value) for t in tests)  # type: ignore[misc]
    return None


_PATH_PART = re.compile(r"\.([^.\[]*)|\[([^\]]*)\]")


def _path_of(message: str) -> tuple[str, tuple[str | int, ...]]:
    """Split msgspec's ``"Expected `int`, got `str` - at `$.items[0].id`"``."""
    text, sep, where = message.rpartition(" - at `")
    if not sep:
        return message, ()
    loc: list[str | int] = []
    for part in _PATH_PART.finditer(where.rstrip("`"), 1):  # after the "$"
        name, key = part.groups()
        if name is not None:
            loc.append(name)
        else:
            loc.append(int(key) if key.lstrip("-").isdigit() else key.strip("'\""))
    return text, tuple(loc)


def msgspec_failure(exc: msgspec.ValidationError) -> Failure:
    """One :data:`Failure` from msgspec's error (msgspec stops at the first)."""
    text, loc = _path_of(str(exc))
    if text.startswith("Object missing required field `"):
        return (*loc, text.split("`")[1]), "missing", "Field required"
    kind = "type" if text.startswith("Expected `") and "got `" in text else "value"
    return loc, kind, text


class Codec:
    """Decode, validate and encode the values of one type (msgspec's typed decoders)."""

    __slots__ = ("_decoder", "is_instance", "type")

    def __init__(self, tp: Any) -> None:
        self.type = tp
        self._decoder = msgspec.json.Decoder(tp)
        self.is_instance = _instance_test(tp)

    def decode_json(self, data: bytes) -> Any:
        """Decode and validate JSON in one pass; :class:`Invalid` or :class:`Malformed`."""
        try:
            return self._decoder.decode(data)
        except msgspec.ValidationError as exc:
            failure = msgspec_failure(exc)
        except msgspec.DecodeError as exc:
            raise Malformed(str(exc)) from None
        # A typed decoder stops at the first value of the wrong type, which may come
        # before the bytes stop being JSON ('{"name": 5' for a str): malformed first.
        try:
            msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            raise Malformed(str(exc)) from None
        raise Invalid([failure])

    def convert(self, value: Any) -> Any:
        """Validate a Python value (a dict, say) into the type; :class:`Invalid` if it isn't."""
        try:
            return msgspec.convert(value, self.type, from_attributes=True)
        except msgspec.ValidationError as exc:
            raise Invalid([msgspec_failure(exc)]) from None

    def encode(self, value: Any) -> bytes:
        """The value as JSON."""
        return _encoder.encode(value)


class PydanticCodec(Codec):
    """The same for a type that holds a pydantic model: pydantic's ``TypeAdapter``."""

    __slots__ = ("_adapter", "_error")

    def __init__(self, tp: Any) -> None:
        pydantic = sys.modules["pydantic"]
        self.type = tp
        self._adapter = pydantic.TypeAdapter(tp)
        self._error = pydantic.ValidationError
        self.is_instance = _instance_test(tp)

    def _invalid(self, exc: Any) -> Exception:
        errors = exc.errors(include_url=False)
        if any(error["type"] == "json_invalid" for error in errors):
            return Malformed(errors[0]["msg"])
        return Invalid([(tuple(e["loc"]), e["type"], e["msg"]) for e in errors])

    def decode_json(self, data: bytes) -> Any:
        try:
            return self._adapter.validate_json(data)
        except self._error as exc:
            raise self._invalid(exc) from None

    def convert(self, value: Any) -> Any:
        try:
            return self._adapter.validate_python(value, from_attributes=True)
        except self._error as exc:
            raise self._invalid(exc) from None

    def encode(self, value: Any) -> bytes:
        return self._adapter.dump_json(value)  # type: ignore[no-any-return]


class UnionCodec(Codec):
    """A union msgspec cannot take in one pass (``Pet | Problem``: Structs without a
    tag): each member's codec in turn, the first that validates wins."""

    __slots__ = ("_members",)

    def __init__(self, tp: Any, members: list[Codec]) -> None:
        self.type = tp
        self._members = members
        self.is_instance = _instance_test(tp)

    def decode_json(self, data: bytes) -> Any:
        failures: list[Failure] = []
        for codec in self._members:
            try:
                return codec.decode_json(data)
            except Invalid as exc:
                failures += exc.failures
        raise Invalid(failures)

    def convert(self, value: Any) -> Any:
        failures: list[Failure] = []
        for codec in self._members:
            try:
                return codec.convert(value)
            except Invalid as exc:
                failures += exc.failures
        raise Invalid(failures)


def codec_for(tp: Any) -> Codec:
    """The codec for ``tp``: pydantic's when a pydantic model is inside it, else msgspec's;
    for a union msgspec refuses, one per member (:class:`UnionCodec`)."""
    if holds(tp, _is_pydantic_class):
        return PydanticCodec(tp)
    try:
        return Codec(tp)
    except TypeError:
        if not is_union(strip_annotated(tp)):
            raise
    return UnionCodec(tp, [codec_for(member) for member in get_args(strip_annotated(tp))])


def one_pass(tp: Any) -> bool:
    """Whether msgspec takes ``tp`` whole (not a union of untagged Structs, say)."""
    try:
        msgspec.json.Decoder(tp)
    except TypeError:
        return False
    return True


def convert_text(value: Any, tp: Any) -> Any:
    """Convert strings from a query string, a header, a cookie or a form to ``tp``."""
    try:
        return msgspec.convert(value, tp, strict=False)
    except msgspec.ValidationError as exc:
        raise Invalid([msgspec_failure(exc)]) from None


# -- text converters -----------------------------------------------------------------
#
# msgspec.convert("5", int, strict=False) costs about five times int("5"). The common
# parameters (int, float, bool, lists of them, bounds from msgspec.Meta) get a fast
# path that accepts only text msgspec itself accepts, to the same value; anything else
# (a failure too) goes to msgspec, so the value or the error is always msgspec's.

#: A fast path's "not mine": the text goes to msgspec.
_SLOW: Any = object()
_BOOLS = {"true": True, "false": False, "True": True, "False": False, "1": True, "0": False}
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?", re.ASCII)


def _int_text(text: str) -> Any:
    digits = text[1:] if text[:1] == "-" else text
    # msgspec refuses leading zeros ("007"), signs but "-", spaces and underscores.
    if digits.isdigit() and digits.isascii() and (digits[0] != "0" or len(digits) == 1):
        return int(text)
    return _SLOW


def _float_text(text: str) -> Any:
    if not _DECIMAL.fullmatch(text):
        return _SLOW
    # msgspec reads "-0" as the integer 0, then makes it a float: 0.0, not -0.0.
    return float(text) if "." in text else float(int(text))


def _bool_text(text: str) -> Any:
    return _BOOLS.get(text, _SLOW)


def _str_text(text: str) -> Any:
    return _SLOW if text == "null" else text  # None for ``str | None``: msgspec's call


_PARSERS: dict[Any, Callable[[str], Any]] = {
    int: _int_text,
    float: _float_text,
    bool: _bool_text,
    str: _str_text,
}
_BOUNDS = (("gt", operator.gt), ("ge", operator.ge), ("lt", operator.lt), ("le", operator.le))


def _fast_text(tp: Any) -> Callable[[Any], Any] | None:
    """A fast converter for ``tp`` (returning :data:`_SLOW` for text it leaves to msgspec),
    or ``None`` when ``tp`` has none."""
    metas: list[msgspec.Meta] = []
    if get_origin(tp) is Annotated:
        metas = [m for m in tp.__metadata__ if isinstance(m, msgspec.Meta)]
        tp = get_args(tp)[0]
    if is_union(tp):
        members = [a for a in get_args(tp) if a is not type(None)]
        # "null" is None for an optional: not a number, so it is msgspec's anyway.
        return _fast_text(members[0]) if len(members) == 1 and not metas else None
    if get_origin(tp) is list:
        item = _fast_text(get_args(tp)[0]) if get_args(tp) and not metas else None
        if item is None:
            return None
        one = item

        def each(texts: list[str]) -> Any:
            if texts.__class__ is not list:
                return _SLOW
            values = [one(text) for text in texts]
            return _SLOW if any(v is _SLOW for v in values) else values

        return each
    parse = _PARSERS.get(tp) if tp in _PARSERS else None
    if parse is None or (metas and (tp is bool or tp is str)):
        return None
    checks = []
    for meta in metas:
        if meta.multiple_of is not None:
            return None
        checks += [(test, getattr(meta, name)) for name, test in _BOUNDS]
    checks = [(test, limit) for test, limit in checks if limit is not None]
    if not checks:
        return parse
    first = parse

    def bounded(text: str) -> Any:
        value = first(text)
        if value is _SLOW:
            return _SLOW
        for test, limit in checks:
            if not test(value, limit):
                return _SLOW  # msgspec words the error
        return value

    return bounded


def text_converter(tp: Any) -> Callable[[Any], Any]:
    """A function converting the text of a query parameter, header, cookie or form field
    (or the list of them, for ``list[T]``) to ``tp``, or raising :class:`Invalid`: what
    :func:`convert_text` does, faster for the common types."""
    fast = _fast_text(tp)
    if fast is None:
        return lambda value: convert_text(value, tp)
    quick = fast

    def convert(value: Any) -> Any:
        out = quick(value)
        return convert_text(value, tp) if out is _SLOW else out

    return convert
