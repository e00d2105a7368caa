"""From a typed view's signature to what binds its parameters and answers with its value.

:func:`compile_view` reads a view once, when its route is registered, and gives
a :class:`TypedRoute`: a plain description of the view's parameters (where each
comes from, its type, its marker), its body, its return type and declared
responses — what the API spec will read — plus the two calls the request path
makes: :meth:`TypedRoute.bind` (on the event loop) and :meth:`TypedRoute.finish`
(in the view's thread for a ``def`` view). A view whose parameters are only its
path variables gets no ``TypedRoute`` at all, so it runs as any Flask view.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import typing
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin

from werkzeug.datastructures import FileStorage

from .models import (
    Codec,
    Invalid,
    Malformed,
    codec_for,
    encode,
    holds,
    is_model,
    is_union,
    strip_annotated,
    text_converter,
)
from .params import Body, Param, Place, Query
from .problems import (
    MalformedBody,
    Problem,
    ProblemError,
    ProblemFormatter,
    RequestValidationError,
    UnsupportedBody,
    media_type,
)

#: Response validation modes: ``trust`` (skip when the value already is the declared
#: type), ``always`` (validate every value; for tests), ``off``.
ResponseValidation = Literal["trust", "always", "off"]
_MODES = ("trust", "always", "off")

_MISSING: Any = inspect.Parameter.empty

# What a path converter hands the view, by converter class name.
_CONVERTED = {
    "IntegerConverter": int,
    "FloatConverter": float,
    "UUIDConverter": uuid.UUID,
    "UnicodeConverter": str,
    "PathConverter": str,
    "AnyConverter": str,
}

_SCALARS: tuple[type, ...] = (str, int, float, bool, bytes, uuid.UUID, decimal.Decimal)
_SCALARS += (datetime.datetime, datetime.date, datetime.time, datetime.timedelta)


class ResponseValidationError(Exception):
    """A typed view returned a value that is not its declared return type (a server error)."""


@dataclass(frozen=True)
class Parameter:
    """One bound parameter of a typed view: where it comes from and what it must be."""

    name: str
    place: Place
    #: The name in the request (a header's with dashes, a marker's alias).
    alias: str
    #: The declared type, with any ``msgspec.Meta`` constraints, without the marker.
    type: Any
    default: Any = _MISSING
    marker: Param | None = None
    #: Whether every value is taken (a ``list[T]`` from a query string, a form, ...).
    many: bool = False

    @property
    def required(self) -> bool:
        """Whether a request without it is invalid."""
        return self.default is _MISSING


@dataclass
class TypedRoute:
    """A typed view, compiled: its parameters, body, return type and declared responses."""

    name: str
    path: tuple[Parameter, ...] = ()
    params: tuple[Parameter, ...] = ()
    body: Parameter | None = None
    return_type: Any = None
    status_code: int | None = None
    responses: dict[int, Any] = field(default_factory=dict)
    #: The route's own mode; ``None`` takes the app's ``RESPONSE_VALIDATION``.
    response_validation: ResponseValidation | None = None
    mode: ResponseValidation = "trust"
    _body_codec: Codec | None = None
    _return_codec: Codec | None = None
    #: The codecs of the models declared in ``responses``, by status.
    _status_codecs: dict[int, Codec] = field(default_factory=dict)
    #: Whether the view's declared return type takes ``None`` (as JSON ``null``).
    _nullable: bool = False
    _readers: tuple[tuple[Parameter, Callable[[Any], Any], Any], ...] = ()

    def __post_init__(self) -> None:
        if self.body is not None:
            self._body_codec = codec_for(self.body.type)
        if self.return_type is not None and holds(strip_annotated(self.return_type), is_model):
            self._return_codec = codec_for(self.return_type)
            returned = strip_annotated(self.return_type)
            self._nullable = is_union(returned) and type(None) in get_args(returned)
        self._readers = tuple((p, _reader(p), _target(p)) for p in self.params)
        self._status_codecs = {
            code: codec_for(declared)
            for code, declared in self.responses.items()
            if not isinstance(declared, str) and holds(strip_annotated(declared), is_model)
        }

    def for_method(self, method: str) -> TypedRoute | None:
        """The compiled view for an HTTP method (a :class:`MethodView` has one per method)."""
        return self

    def configure(self, default_mode: str) -> None:
        """Settle the response validation mode, the route's or else the app's config."""
        mode = self.response_validation or default_mode
        if mode not in _MODES:
            raise ValueError(f"RESPONSE_VALIDATION must be one of {_MODES}, not {mode!r}.")
        self.mode = mode  # type: ignore[assignment]

    # -- request side ----------------------------------------------------------------

    def bind(
        self, request: Any, view_args: Mapping[str, Any], formatter: ProblemFormatter
    ) -> dict[str, Any]:
        """The view's keyword arguments from the request, every parameter validated.

        Raises :class:`RequestValidationError` listing every failing parameter,
        :class:`MalformedBody` or :class:`UnsupportedBody`.
        """
        kwargs = dict(view_args)
        errors: list[ProblemError] = []
        for param, read, target in self._readers:
            raw = read(request)
            if raw is None or (param.many and not raw):
                if param.place == "file" and param.alias in request.form:
                    # A text part (no filename) where a file is expected: not "missing".
                    errors.append(_error(param, (), "type", "Expected a file, got a text field"))
                elif param.required:
                    errors.append(_error(param, (), "missing", "Field required"))
                elif param.default is not _MISSING:
                    kwargs[param.name] = param.default
                continue
            if target is None:
                kwargs[param.name] = raw
                continue
            try:
                kwargs[param.name] = target(raw)
            except Invalid as exc:
                errors.extend(_error(param, loc, kind, msg) for loc, kind, msg in exc.failures)
        body = self.body
        if body is not None:
            self._bind_body(request, body, kwargs, errors, formatter)
        if errors:
            raise RequestValidationError(errors=errors, formatter=formatter)
        return kwargs

    def _bind_body(
        self,
        request: Any,
        body: Parameter,
        kwargs: dict[str, Any],
        errors: list[ProblemError],
        formatter: ProblemFormatter,
    ) -> None:
        data = request.get_data()
        if not data:
            if body.required:
                errors.append(_error(body, (), "missing", "A JSON body is required"))
            else:
                kwargs[body.name] = body.default
            return
        if not request.is_json:
            raise UnsupportedBody(formatter=formatter)
        assert self._body_codec is not None
        try:
            kwargs[body.name] = self._body_codec.decode_json(data)
        except Malformed as exc:
            raise MalformedBody(f"The body is not valid JSON: {exc}", formatter=formatter) from None
        except Invalid as exc:
            errors.extend(_error(body, loc, kind, msg) for loc, kind, msg in exc.failures)

    # -- response side ---------------------------------------------------------------

    def call(self, view: Callable[..., Any], kwargs: dict[str, Any], respond: Responder) -> Any:
        """Call a sync view and prepare its value: one call, in the view's thread."""
        return self.finish(view(**kwargs), respond)

    async def finish_async(self, rv: Any, respond: Responder) -> Any:
        """Await an async view's value and prepare it."""
        rv = await rv
        if inspect.iscoroutine(rv):  # a sync decorator around an async view
            rv = await rv
        return self.finish(rv, respond)

    def finish(self, rv: Any, respond: Responder) -> Any:
        """The view's value with its model (or models) validated as the mode says and
        encoded to a JSON response, and the route's ``status_code`` as the default."""
        if rv.__class__ is tuple:
            status = rv[1] if len(rv) > 1 and isinstance(rv[1], int) else None
            if status is None or status == (self.status_code or 200):
                return (self._body(rv[0], respond, self.status_code or 200), *rv[1:])
            return (self._other(rv[0], respond, status), *rv[1:])
        out = self._body(rv, respond, self.status_code or 200)
        if (
            self.status_code is not None
            and (out is rv or rv is None)
            and isinstance(out, (str, bytes, dict, list))
        ):
            return out, self.status_code
        return out

    def _body(self, value: Any, respond: Responder, status: int) -> Any:
        codec = self._return_codec
        if value is None:
            if self._nullable:
                return respond(b"null", status)  # the declared ``Model | None``: JSON null
            if self.return_type is type(None):
                return ""  # the declared ``-> None``: no body (a 204, say)
        if codec is None or self.mode == "off":
            return respond(encode(value), status) if _is_models(value) else value
        if not _is_data(value):
            return value  # a Response, a string, a generator: not data to validate
        return respond(self._checked(codec, value, "its declared return type"), status)

    def _other(self, value: Any, respond: Responder, status: int) -> Any:
        """A value returned with another status than the route's: validated as the model
        ``responses`` declares for that status; any other model only encoded."""
        codec = self._status_codecs.get(status)
        if codec is None or self.mode == "off" or not _is_data(value):
            out = respond(encode(value), status) if _is_models(value) else value
        else:
            out = respond(self._checked(codec, value, f"the model for status {status}"), status)
        if Problem in (value.__class__, self.responses.get(status)):
            out.mimetype = media_type(Problem)
        return out

    def _checked(self, codec: Codec, value: Any, what: str) -> bytes:
        """``value`` as JSON, validated as ``codec``'s type as the mode says."""
        try:
            if self.mode == "always" or codec.is_instance is None or not codec.is_instance(value):
                value = codec.convert(value)
            data = codec.encode(value)
            if self.mode == "always":
                codec.decode_json(data)
        except (Invalid, Malformed) as exc:
            raise ResponseValidationError(
                f"The view {self.name!r} returned a value that is not {what}, {codec.type!r}: {exc}"
            ) from None
        return data


def _is_data(value: Any) -> bool:
    return value.__class__ in (dict, list) or is_model(type(value))


#: Builds the JSON response for encoded bytes and a status (the serving layer's).
Responder = Callable[[bytes, int], Any]


class MethodRoutes(TypedRoute):
    """A :class:`MethodView`'s compiled handlers, one per HTTP method."""

    def __init__(self, name: str, routes: dict[str, TypedRoute]) -> None:
        super().__init__(name)
        self.routes = routes
        if "GET" in routes and "HEAD" not in routes:
            routes["HEAD"] = routes["GET"]

    def for_method(self, method: str) -> TypedRoute | None:
        return self.routes.get(method)

    def configure(self, default_mode: str) -> None:
        for route in self.routes.values():
            route.configure(default_mode)


# What views return most: never a model, and is_model() costs a microsecond.
_PLAIN = frozenset({dict, str, bytes, int, float, bool, type(None)})


def _is_models(value: Any) -> bool:
    cls = value.__class__
    if cls in _PLAIN:
        return False
    if is_model(cls):
        return True
    return (
        cls is list
        and bool(value)
        and value[0].__class__ not in _PLAIN
        and is_model(type(value[0]))
    )


def _error(param: Parameter, loc: tuple[str | int, ...], kind: str, msg: str) -> ProblemError:
    if param.place == "body":
        pointer = "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in loc)
        return ProblemError(in_="body", loc=["body", *loc], pointer=pointer, type=kind, msg=msg)
    return ProblemError(in_=param.place, loc=[param.place, param.alias, *loc], type=kind, msg=msg)


def _reader(param: Parameter) -> Callable[[Any], Any]:
    alias, many = param.alias, param.many
    attribute = {
        "query": "args",
        "header": "headers",
        "cookie": "cookies",
        "form": "form",
        "file": "files",
    }[param.place]
    if many:
        return lambda request: getattr(request, attribute).getlist(alias)
    return lambda request: getattr(request, attribute).get(alias)


def _target(param: Parameter) -> Callable[[Any], Any] | None:
    """How a raw value becomes the parameter: ``None`` (as it is) or a function."""
    tp = strip_annotated(param.type)
    if is_union(tp):
        members = [a for a in get_args(tp) if a is not type(None)]
        tp = members[0] if len(members) == 1 else tp
    if param.place == "file":
        item = get_args(tp)[0] if param.many else tp
        if item is bytes:
            read_all: Callable[[FileStorage], bytes] = lambda f: f.read()  # noqa: E731
            return (lambda files: [read_all(f) for f in files]) if param.many else read_all
        return None
    if tp is str and param.type is tp:
        return None
    return text_converter(param.type)


def _converter_type(converter: Any) -> Any:
    for cls in type.mro(converter) if isinstance(converter, type) else ():
        found = _CONVERTED.get(cls.__name__)
        if found is not None:
            return found
    return None


def _is_query_type(tp: Any) -> bool:
    tp = strip_annotated(tp)
    if get_origin(tp) in (list, tuple, set, frozenset, Literal) or is_union(tp):
        return True
    return isinstance(tp, type) and (issubclass(tp, _SCALARS) or issubclass(tp, enum.Enum))


def compile_view(
    view: Callable[..., Any],
    path_converters: Mapping[str, Any],
    *,
    status_code: int | None = None,
    responses: Mapping[int, Any] | None = None,
    response_validation: ResponseValidation | None = None,
) -> TypedRoute | None:
    """Compile ``view`` for a rule whose variables use ``path_converters`` (name to
    converter class): ``None`` for a plain Flask view, which then pays nothing.

    Raises :class:`TypeError` for an annotation a path converter contradicts
    (``<int:x>`` with ``x: str``), two bodies, or a body beside form fields.
    """
    if response_validation is not None and response_validation not in _MODES:
        raise ValueError(f"response_validation must be one of {_MODES}.")
    options = {
        "status_code": status_code,
        "responses": dict(responses or {}),
        "response_validation": response_validation,
    }
    view_class = getattr(view, "view_class", None)
    if view_class is not None and getattr(view_class, "methods", None):
        routes = {}
        for method in view_class.methods:
            handler = getattr(view_class, method.lower(), None)
            if handler is None:
                continue
            route = _compile_function(handler, path_converters, options, drop_self=True)
            if route is not None:
                routes[method] = route
        return MethodRoutes(getattr(view, "__name__", "view"), routes) if routes else None
    return _compile_function(view, path_converters, options)


def _compile_function(
    view: Callable[..., Any],
    path_converters: Mapping[str, Any],
    options: dict[str, Any],
    drop_self: bool = False,
) -> TypedRoute | None:
    name = getattr(view, "__qualname__", getattr(view, "__name__", repr(view)))
    target = inspect.unwrap(view)
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    parameters = list(signature.parameters.values())
    if drop_self and parameters:
        parameters = parameters[1:]
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except (TypeError, NameError) as exc:
        # A Flask view may name a type it imports only for type checkers: it stays a
        # plain view. One that takes a parameter its rule does not give cannot run so.
        unbound = [
            p.name
            for p in parameters
            if p.name not in path_converters
            and p.default is p.empty
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if unbound:
            raise TypeError(
                f"The view {name!r} takes {unbound[0]!r}, which its rule does not give, and"
                f" its annotations cannot be read ({exc}): define or import the type before"
                " the view (not only under TYPE_CHECKING)."
            ) from None
        return None
    path: list[Parameter] = []
    params: list[Parameter] = []
    body: Parameter | None = None
    for p in parameters:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        annotation = hints.get(p.name, _MISSING)
        marker = _marker(annotation)
        tp = _without_marker(annotation)
        if p.name in path_converters and marker is None:
            converted = _converter_type(path_converters[p.name])
            if annotation is not _MISSING and converted is not None:
                declared = _optional_inner(tp)
                if declared is not converted and declared is not Any:
                    raise TypeError(
                        f"The view {name!r} declares {p.name}: {declared!r}, but its route"
                        f" converts <{p.name}> to {converted.__name__}: change the"
                        " annotation, or the converter in the rule."
                    )
            path.append(Parameter(p.name, "path", p.name, tp, p.default))
            continue
        if annotation is _MISSING:
            continue  # an unannotated extra parameter: the view's own business, as in Flask
        if marker is None:
            if is_model(strip_annotated(tp)) or holds(strip_annotated(tp), is_model):
                marker = Body()
            elif _is_query_type(tp):
                marker = Query()
            else:
                continue
        place = marker.place
        alias = marker.alias or (p.name.replace("_", "-") if place == "header" else p.name)
        many = place != "body" and get_origin(strip_annotated(_optional_inner(tp))) is list
        parameter = Parameter(p.name, place, alias, tp, p.default, marker, many)
        if place == "body":
            if body is not None:
                raise TypeError(
                    f"The view {name!r} has two bodies, {body.name!r} and {p.name!r}: a"
                    " request has one JSON body; make one model that holds both."
                )
            body = parameter
        else:
            params.append(parameter)
    if body is not None and any(p.place in ("form", "file") for p in params):
        raise TypeError(
            f"The view {name!r} takes both a JSON body and form fields: a request has one body."
        )
    return_type = hints.get("return")
    declared_return = return_type is not None and holds(strip_annotated(return_type), is_model)
    if not (params or body or declared_return or any(v is not None for v in options.values() if v)):
        return None
    return TypedRoute(
        name,
        tuple(path),
        tuple(params),
        body,
        return_type,
        options["status_code"],
        options["responses"],
        options["response_validation"],
    )


def _optional_inner(tp: Any) -> Any:
    tp = strip_annotated(tp)
    if is_union(tp):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return tp


def _marker(annotation: Any) -> Param | None:
    if get_origin(annotation) is typing.Annotated:
        for extra in annotation.__metadata__:
            if isinstance(extra, Param):
                return extra
    return None


def _without_marker(annotation: Any) -> Any:
    if get_origin(annotation) is not typing.Annotated:
        return annotation
    extras = tuple(e for e in annotation.__metadata__ if not isinstance(e, Param))
    inner = get_args(annotation)[0]
    return typing.Annotated.__class_getitem__((inner, *extras)) if extras else inner
