"""The app's routes as an OpenAPI 3.1 document (JSON Schema 2020-12): ``app.openapi()``.

One pass over the URL map: each rule and HTTP method is an operation. A typed
view (:class:`~microasgi.typed.TypedRoute`) gives its parameters, body and
responses; a Flask-style view gives what its rule knows (path variables, from
their converters, and methods). Schemas of every route are made in one call
per library, so names are consistent: msgspec's ``schema_components`` for
Structs, dataclasses, ``TypedDict`` and attrs classes, pydantic's
``TypeAdapter.json_schemas`` for types that hold a pydantic model (which splits
a model into ``-Input`` and ``-Output`` only when the two differ). A model's
component is its class name; two models with one name are an
:class:`OpenAPIError`, not a silent rename.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import typing
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, get_args, get_origin

import msgspec
from werkzeug.http import HTTP_STATUS_CODES

from ..routing.rules import _VARIABLE_RE
from .compile import Parameter, TypedRoute
from .models import _is_pydantic_class, holds, is_model, is_union, one_pass, strip_annotated
from .problems import media_type

if TYPE_CHECKING:
    from ..routing import Rule
    from ..sansio.app import App

__all__ = ["OPENAPI_VERSION", "OpenAPIError", "SecurityRequirements", "build_openapi"]

#: The OpenAPI version of the documents built here.
OPENAPI_VERSION = "3.1.0"

#: ``security=`` on an app, a blueprint or a route: a scheme name, a list of names
#: (any one of them suffices), or OpenAPI's own list of requirement objects
#: (``[{"oauth": ["read"]}]``); ``[]`` makes a route public.
SecurityRequirements = str | list[str | dict[str, list[str]]]

_REF_TEMPLATE = "#/components/schemas/{name}"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_BINARY = {"type": "string", "format": "binary"}
# Path variables of a Flask-style view, by converter class name.
_CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "IntegerConverter": {"type": "integer"},
    "FloatConverter": {"type": "number"},
    "UUIDConverter": {"type": "string", "format": "uuid"},
}


class OpenAPIError(ValueError):
    """The routes cannot be documented as they are (two models with one name, an
    unknown security scheme, a type no JSON schema exists for)."""


def build_openapi(app: App, root_path: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s routes; with ``root_path``, a ``servers``
    entry for it (``"/"`` for an empty one)."""
    config = app.config
    info: dict[str, Any] = {"title": config["API_TITLE"] or app.name}
    info["version"] = config["API_VERSION"]
    if config["API_DESCRIPTION"]:
        info["description"] = config["API_DESCRIPTION"]
    schemes: Mapping[str, Any] = getattr(app, "security_schemes", None) or {}
    builder = _Builder(app, schemes)
    paths = builder.paths()
    doc: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info}
    if root_path is not None:
        doc["servers"] = [{"url": root_path or "/"}]
    doc["paths"] = paths
    components: dict[str, Any] = {}
    schemas = builder.schemas.finish()
    if schemas:
        components["schemas"] = schemas
    if schemes:
        components["securitySchemes"] = dict(schemes)
    if components:
        doc["components"] = components
    if app.security is not None:
        doc["security"] = builder.security(app.security, "the app")
    if builder.tags:
        doc["tags"] = [{"name": tag} for tag in builder.tags]
    return doc


class _Schemas:
    """Schemas asked for while the operations are built, made in bulk at the end.

    :meth:`of` hands out an empty dict that :meth:`finish` fills in place, so
    that every route's types go through one call of each library.
    """

    def __init__(self) -> None:
        self._msgspec: list[tuple[Any, dict[str, Any]]] = []
        self._pydantic: list[tuple[Any, str, dict[str, Any]]] = []
        #: Components made elsewhere (the problem formatter's schema), by name.
        self.fixed: dict[str, Any] = {}

    def of(
        self, tp: Any, mode: str = "validation", extra: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The schema of ``tp`` with the keywords of ``extra``, filled in by :meth:`finish`;
        ``mode`` is ``"validation"`` for what the app reads, ``"serialization"`` for what
        it writes."""
        slot: dict[str, Any] = dict(extra or {})
        inner = strip_annotated(tp)
        if is_union(inner) and not holds(tp, _is_pydantic_class) and not one_pass(tp):
            # msgspec documents no union it cannot decode (untagged Structs): one each.
            slot["anyOf"] = [self.of(member, mode) for member in get_args(inner)]
            return slot
        if holds(tp, _is_pydantic_class):
            self._pydantic.append((tp, mode, slot))
        else:
            self._msgspec.append((tp, slot))
        return slot

    def finish(self) -> dict[str, Any]:
        """Fill every slot; the components, by name."""
        components: dict[str, Any] = {}
        owners: dict[str, Any] = {}
        if self._msgspec:
            types = [tp for tp, _ in self._msgspec]
            try:
                found, defs = msgspec.json.schema_components(types, ref_template=_REF_TEMPLATE)
            except TypeError as exc:
                raise OpenAPIError(f"No JSON schema for a route's type: {exc}") from None
            for (_, slot), schema in zip(self._msgspec, found, strict=True):
                _fill(slot, schema)
            for name, schema in defs.items():
                if "." in name:  # msgspec qualifies names only when two types share one
                    _collision(name.rsplit(".", 1)[-1], [n for n in defs if "." in n])
                components[name] = schema
                owners[name] = "msgspec"
        if self._pydantic:
            pydantic = sys.modules["pydantic"]
            adapter = pydantic.TypeAdapter
            inputs = [(i, mode, adapter(tp)) for i, (tp, mode, _) in enumerate(self._pydantic)]
            found, defs = pydantic.TypeAdapter.json_schemas(
                inputs, ref_template=_REF_TEMPLATE.replace("{name}", "{model}")
            )
            for i, (_, mode, slot) in enumerate(self._pydantic):
                _fill(slot, found[(i, mode)])
            for name, schema in defs.get("$defs", {}).items():
                if "__" in name:  # pydantic's way of telling two models of one name apart
                    _collision(name.split("__")[0], [n for n in defs["$defs"] if "__" in n])
                if owners.get(name) == "msgspec":
                    raise OpenAPIError(
                        f"Two models are named {name!r}, a pydantic model and another one:"
                        " component names must be unique; rename one of them."
                    )
                components[name] = schema
        for name, schema in self.fixed.items():
            if components.setdefault(name, schema) != schema:
                raise OpenAPIError(
                    f"The problem formatter's schema has a component {name!r}, and a model of"
                    " another shape has that name too; rename the model."
                )
        return dict(sorted(components.items()))


def _collision(name: str, qualified: list[str]) -> None:
    raise OpenAPIError(
        f"Two models are named {name!r} ({', '.join(sorted(qualified))}): their schemas would"
        " have one component name in the API spec; rename one of them."
    )


class _Builder:
    def __init__(self, app: App, schemes: Mapping[str, Any]) -> None:
        self.app = app
        self.schemes = schemes
        self.schemas = _Schemas()
        self.tags: list[str] = []
        self.operation_ids: set[str] = set()
        self._problem_schemas: dict[str, dict[str, Any]] = {}

    def paths(self) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        route_docs: Mapping[int, Mapping[str, Any]] = getattr(self.app, "_route_docs", {})
        for rule in self.app.url_map.iter_rules():
            # The static files, and microasgi's own routes (this spec, the docs pages).
            if rule.websocket or rule.endpoint == "static" or rule.endpoint.startswith(_OWN):
                continue
            docs = route_docs.get(id(rule), {})
            if not docs.get("include_in_schema", True):
                continue
            view = self.app.view_functions.get(rule.endpoint)
            if view is None:
                continue
            methods = [m for m in _METHODS if m.upper() in rule.methods]
            if "get" in methods:
                methods.remove("head")  # added with GET
            if rule.provide_automatic_options and "options" in methods:
                methods.remove("options")
            item = paths.setdefault(_path_template(rule.rule), {})
            typed = self.app._typed_routes.get(id(rule))
            for method in methods:
                if method in item:
                    continue
                route = typed.for_method(method.upper()) if typed is not None else None
                item[method] = self.operation(rule, view, method, route, docs, len(methods) > 1)
        return paths

    def operation(
        self,
        rule: Rule,
        view: Any,
        method: str,
        route: TypedRoute | None,
        docs: Mapping[str, Any],
        several: bool,
    ) -> dict[str, Any]:
        op: dict[str, Any] = {}
        blueprint = rule.endpoint.rpartition(".")[0]
        tags = docs.get("tags") or ([blueprint] if blueprint else [])
        for tag in tags:
            if tag not in self.tags:
                self.tags.append(tag)
        if tags:
            op["tags"] = list(tags)
        summary, description = _docstring(view, method)
        if summary:
            op["summary"] = summary
        if description:
            op["description"] = description
        op["operationId"] = self._operation_id(rule.endpoint, method, several)
        parameters = list(self._path_parameters(rule, route))
        if route is not None:
            parameters.extend(self._parameter(p) for p in route.params if p.place in _IN)
        if parameters:
            op["parameters"] = parameters
        body = self._request_body(route) if route is not None else None
        if body is not None:
            op["requestBody"] = body
        op["responses"] = self._responses(route, bool(rule.arguments), view, method)
        security = self._security_for(rule, docs)
        if security is not None:
            op["security"] = security
        return op

    def _operation_id(self, endpoint: str, method: str, several: bool) -> str:
        base = f"{endpoint}_{method}" if several else endpoint
        operation_id, n = base, 1
        while operation_id in self.operation_ids:  # one view on several rules
            n += 1
            operation_id = f"{base}_{n}"
        self.operation_ids.add(operation_id)
        return operation_id

    # -- parameters and bodies -----------------------------------------------------------

    def _path_parameters(self, rule: Rule, route: TypedRoute | None) -> Iterator[dict[str, Any]]:
        declared = {p.name: p for p in route.path} if route is not None else {}
        converters = dict(_converters(rule))
        for name, _ in rule.variable_converters():
            param = declared.get(name)
            if param is not None and param.type is not None:
                schema = self.schemas.of(param.type)
            else:
                schema = _converter_schema(converters.get(name))
            yield {"name": name, "in": "path", "required": True, "schema": schema}

    def _parameter(self, param: Parameter) -> dict[str, Any]:
        out: dict[str, Any] = {"name": param.alias, "in": param.place}
        if param.required:
            out["required"] = True
        marker = param.marker
        if marker is not None and marker.description:
            out["description"] = marker.description
        out["schema"] = self._field_schema(param)
        return out

    def _field_schema(self, param: Parameter) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if not param.required:
            with contextlib.suppress(TypeError):  # a default JSON cannot show is left out
                extra["default"] = msgspec.to_builtins(param.default)
        marker = param.marker
        if marker is not None and marker.examples:
            extra["examples"] = msgspec.to_builtins(marker.examples)
        if param.place == "file":
            binary = {"type": "array", "items": _BINARY} if param.many else _BINARY
            return {**binary, **extra}
        # A $ref beside other keywords is allowed in 3.1 (JSON Schema 2020-12).
        return self.schemas.of(param.type, extra=extra)

    def _request_body(self, route: TypedRoute) -> dict[str, Any] | None:
        body = route.body
        if body is not None:
            schema = self._field_schema(body)
            out: dict[str, Any] = {"content": {"application/json": {"schema": schema}}}
            if body.required:
                out["required"] = True
            if body.marker is not None and body.marker.description:
                out["description"] = body.marker.description
            return out
        fields = [p for p in route.params if p.place in ("form", "file")]
        if not fields:
            return None
        properties = {}
        for field in fields:
            schema = self._field_schema(field)
            if field.marker is not None and field.marker.description:
                schema = {**schema, "description": field.marker.description}
            properties[field.alias] = schema
        media = (
            "multipart/form-data"
            if any(f.place == "file" for f in fields)
            else "application/x-www-form-urlencoded"
        )
        form: dict[str, Any] = {"type": "object", "properties": properties}
        required = [f.alias for f in fields if f.required]
        if required:
            form["required"] = required
        return {"content": {media: {"schema": form}}, "required": bool(required)}

    # -- responses -----------------------------------------------------------------------

    def _responses(
        self, route: TypedRoute | None, variables: bool, view: Any, method: str
    ) -> dict[str, Any]:
        if route is not None:
            responses = self._typed_responses(route)
        else:  # a plain Flask view: what its return annotation says, if it can be read
            responses = {"200": self._response(200, _return_annotation(view, method))}
        if variables:
            # A path whose variable its converter refuses (``/pets/x`` for ``<int:pet_id>``)
            # matches no route: the router answers 404, with Werkzeug's HTML page.
            found = responses.setdefault("404", {"description": HTTP_STATUS_CODES[404]})
            found["content"] = {**found.get("content", {}), **_html_page()}
        return dict(sorted(responses.items()))

    def _typed_responses(self, route: TypedRoute) -> dict[str, Any]:
        status = route.status_code or 200
        responses: dict[str, Any] = {str(status): self._response(status, route.return_type)}
        formatter = self.app.problem_formatter
        errors = [422] if (route.params or route.body) else []
        if route.body is not None:
            errors += [400, 415]
        for code in errors:
            responses[str(code)] = {
                "description": HTTP_STATUS_CODES[code],
                "content": {formatter.media_type: {"schema": self._problem_schema()}},
            }
        if any(p.place in ("form", "file") for p in route.params):
            # A body the form parser cannot read (a multipart part without a name, say)
            # is its 400, with Werkzeug's HTML page.
            responses["400"] = {"description": HTTP_STATUS_CODES[400], "content": _html_page()}
        for code, declared in route.responses.items():
            responses[str(code)] = self._response(code, declared)
        return responses

    def _response(self, status: int, declared: Any) -> dict[str, Any]:
        description = HTTP_STATUS_CODES.get(status, "Response")
        if isinstance(declared, str):
            return {"description": declared}
        tp = strip_annotated(declared)
        if tp is None or tp is type(None) or status == 204:
            return {"description": description}
        if tp is str:
            media, schema = "text/html", {"type": "string"}
        elif _is_data(tp):
            media = media_type(tp)
            schema = self.schemas.of(declared, "serialization")
        else:  # a Response, bytes, a generator: nothing to say about the body
            return {"description": description}
        return {"description": description, "content": {media: {"schema": schema}}}

    def _problem_schema(self) -> dict[str, Any]:
        formatter = self.app.problem_formatter
        key = type(formatter).__qualname__
        if key not in self._problem_schemas:
            schema = dict(formatter.schema())
            # msgspec's "#/$defs/..." refs, pointed at components of the same name.
            for name, part in schema.pop("$defs", {}).items():
                self.schemas.fixed[name] = _rewrite_refs(part)
            self._problem_schemas[key] = _rewrite_refs(schema)
        return self._problem_schemas[key]

    # -- security ------------------------------------------------------------------------

    def _security_for(self, rule: Rule, docs: Mapping[str, Any]) -> list[Any] | None:
        if "security" in docs:
            return self.security(docs["security"], f"route {rule.rule!r}")
        parts = rule.endpoint.split(".")[:-1]
        for size in range(len(parts), 0, -1):  # innermost blueprint first
            blueprint = self.app.blueprints.get(".".join(parts[:size]))
            if blueprint is not None and blueprint.security is not None:
                return self.security(blueprint.security, f"blueprint {blueprint.name!r}")
        return None

    def security(self, value: SecurityRequirements, where: str) -> list[Any]:
        """``security=`` as OpenAPI's list of requirement objects, every name checked."""
        items = [value] if isinstance(value, str) else list(value)
        out: list[dict[str, list[str]]] = [
            {item: []} if isinstance(item, str) else dict(item) for item in items
        ]
        for requirement in out:
            for name in requirement:
                if name not in self.schemes:
                    known = ", ".join(sorted(self.schemes)) or "none"
                    raise OpenAPIError(
                        f"The security of {where} names the scheme {name!r}, which is not in"
                        f" app.security_schemes (declared: {known}); declare it there."
                    )
        return out


_IN = ("query", "header", "cookie")
_OWN = "_microasgi_"


def _html_page() -> dict[str, Any]:
    """The content of Werkzeug's error pages (the router's 404, the form parser's 400)."""
    return {"text/html": {"schema": {"type": "string"}}}


def _rewrite_refs(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            k: (
                v.replace("#/$defs/", "#/components/schemas/")
                if k == "$ref" and isinstance(v, str)
                else _rewrite_refs(v)
            )
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_rewrite_refs(v) for v in schema]
    return schema


def _is_data(tp: Any) -> bool:
    """Whether a view returning ``tp`` answers with JSON (models, dicts, lists)."""
    origin = get_origin(tp)
    if is_union(tp):
        return all(_is_data(a) or a is type(None) for a in get_args(tp))
    if origin in (list, dict) or tp in (list, dict):
        return True
    return holds(tp, is_model)


def _path_template(rule: str) -> str:
    """``/pets/<int:pet_id>`` as OpenAPI writes it: ``/pets/{pet_id}``."""
    return _VARIABLE_RE.sub(lambda m: "{" + m["name"] + "}", rule)


def _converters(rule: Rule) -> Iterator[tuple[str, Any]]:
    for part in rule._build_parts:
        if isinstance(part, tuple):
            yield part


def _converter_schema(converter: Any) -> dict[str, Any]:
    for cls in type(converter).__mro__:
        found = _CONVERTER_SCHEMAS.get(cls.__name__)
        if found is not None:
            schema = dict(found)
            if getattr(converter, "min", None) is not None:
                schema["minimum"] = converter.min
            if getattr(converter, "max", None) is not None:
                schema["maximum"] = converter.max
            return schema
        if cls.__name__ == "AnyConverter":
            return {"type": "string", "enum": list(converter.items)}
    return {"type": "string"}


def _return_annotation(view: Any, method: str) -> Any:
    """A plain view's return annotation (a class-based view's handler for ``method``),
    ``None`` when it has none or it cannot be read."""
    view_class = getattr(view, "view_class", None)
    target = getattr(view_class, method, None) if view_class is not None else view
    if target is None:
        return None
    try:
        return typing.get_type_hints(inspect.unwrap(target)).get("return")
    except (NameError, TypeError, AttributeError):  # a type imported only for type checkers
        return None


def _docstring(view: Any, method: str) -> tuple[str | None, str | None]:
    """Summary (the first line) and description (the rest) of the view's docstring;
    a class-based view's handler for ``method`` first."""
    view_class = getattr(view, "view_class", None)
    doc = None
    if view_class is not None:
        doc = inspect.getdoc(getattr(view_class, method, None)) or inspect.getdoc(view_class)
    else:
        doc = inspect.getdoc(view)
    if not doc:
        return None, None
    summary, _, rest = doc.partition("\n")
    return summary.strip() or None, rest.strip() or None


def _fill(slot: dict[str, Any], schema: Mapping[str, Any]) -> None:
    """The type's schema into its slot, before the keywords the slot has (a default)."""
    extra = dict(slot)
    slot.clear()
    slot.update(schema)
    slot.update(extra)
