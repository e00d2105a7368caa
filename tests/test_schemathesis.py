"""schemathesis against the kitchen-sink app: what the spec says is what the server does.

Every operation of tests/apps/kitchen_sink.py is called with at least 100
generated requests, valid and invalid (schemathesis' examples, coverage and
fuzzing phases), and every response goes through all of schemathesis' checks:
no server error, status codes, content types, headers and bodies as documented,
invalid data rejected, valid data accepted, a missing required header or an
undocumented method refused, declared authentication enforced. Generation is
derandomised, so a failure reproduces.

The app runs twice: at the root, and mounted under ``/api`` in Starlette, where
schemathesis reads the spec the app serves at ``/api/openapi.json`` (its
``servers`` entry is ``/api``, from the request's ``root_path``) and sends every
request through the mount. All in-process: ``from_asgi``, no socket.
"""

from __future__ import annotations

import json
from typing import Any

import hypothesis
import schemathesis
from schemathesis.core import string_to_boolean
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
)
from starlette.applications import Starlette
from starlette.routing import Mount

from tests.apps.kitchen_sink import TOKEN, kitchen_sink

EXAMPLES = 100
# Sent with every request: the secured operations accept this token only, so
# schemathesis' ignored_auth check also sends them requests without it, or with
# another one, and expects a 401.
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def load(path: str, app: Any) -> Any:
    schema = schemathesis.openapi.from_asgi(path, app)
    schema.config.generation.update(max_examples=EXAMPLES, deterministic=True)
    return schema


at_root = load("/openapi.json", kitchen_sink())
under_api = load("/api/openapi.json", Starlette(routes=[Mount("/api", app=kitchen_sink())]))

# deadline=None: a shared 2-core machine makes timing meaningless.
settings = hypothesis.settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None
)


def call_and_validate(case: Any, *excluded: Any) -> None:
    """Send the case and run every check on the answer, but for the checks that are
    wrong about this one case (see :func:`false_positives`)."""
    case.call_and_validate(headers=AUTH, excluded_checks=[*excluded, *false_positives(case)])


def false_positives(case: Any) -> list[Any]:
    """The checks that cannot be right about ``case``, each for a reason given here.

    Each exemption is as narrow as its reason: one check, for the cases where
    every value schemathesis made invalid is of that kind.
    """
    meta = case.meta
    if meta is None:
        return []
    excluded = []
    negative = meta.generation.mode.is_negative
    if negative and case.media_type in _FORMS and _valid_once_sent_as_a_form(case):
        excluded.append(negative_data_rejection)
    if _has_integral_float(case.body) or _backslash_in_a_part_name(case):
        excluded.append(positive_data_acceptance)
    return excluded


def _backslash_in_a_part_name(case: Any) -> bool:
    """Whether a multipart case has a field name with a backslash in it.

    schemathesis writes part names as browsers do (WHATWG: ``"`` as ``%22``, a
    backslash as it is); Werkzeug's header parser, which Flask's form parser and
    ours use, reads a quoted string as RFC 9110 does, where a backslash escapes the
    next character: ``name="x\\"`` never ends, and the part has no name. microasgi
    answers a 400 (Flask 3.1: a 500, a TypeError in Werkzeug's parser). The two
    rules disagree on such names only; we keep Werkzeug's reading, as Flask does.
    """
    body = case.body
    return (
        case.media_type == "multipart/form-data"
        and isinstance(body, dict)
        and any("\\" in name for name in body)
    )


_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def _valid_once_sent_as_a_form(case: Any) -> bool:
    """Whether the "invalid" form fields of a negative case are valid as sent: a form
    has no types, only text fields (repeated for a list) and file parts.

    - A number, a boolean or ``null`` for a string field is sent as text: ``title=650``
      is the string ``"650"``.
    - A scalar for an array field: ``labels=x`` is both ``"x"`` and ``["x"]`` (OpenAPI's
      exploded form style writes a one-item array so).
    - Anything for ``format: binary``: a file part's content is bytes, whatever they are.
    """
    data = case.meta.phase.data
    # Fuzzing names each mutated field; the coverage phase points at its schema.
    names = {m.parameter for m in data.mutations}
    if not names and (data.location or "").startswith("/properties/"):
        names = {data.location.split("/")[2]}
    body = case.body
    if None in names or not isinstance(body, dict):
        return False
    form = case.operation.get_body_for_media_type(case.media_type).optimized_schema
    fields = form.get("properties", {})
    return all(name in body and _sent_as_valid(body[name], fields.get(name, {})) for name in names)


def _sent_as_valid(value: Any, field: dict[str, Any]) -> bool:
    if field.get("format") == "binary" or field.get("items", {}).get("format") == "binary":
        return True
    if field.get("type") == "array":
        if isinstance(value, list):
            return False
        field, values = field.get("items", {}), [value]
    else:  # several values for one field are that field repeated: the server reads one
        values = value if isinstance(value, list) else [value]
    options = field.get("anyOf", [field])
    return all(any(_text_fits(_as_text(v), option) for option in options) for v in values)


def _as_text(value: Any) -> str:
    """A value as schemathesis writes it in a form: strings as they are, others as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _text_fits(text: str, schema: dict[str, Any]) -> bool:
    """Whether a form field's text is valid for ``schema``: any text for a plain string;
    for a boolean, the spellings schemathesis itself reads as one in a query string
    (``0``, ``yes``, ...)."""
    if set(schema) - {"type", "default", "examples"}:
        return False
    if schema.get("type") == "string":
        return True
    return schema.get("type") == "boolean" and isinstance(string_to_boolean(text), bool)


def _has_integral_float(value: Any) -> bool:
    """Whether a JSON body holds a float with no fraction (``3.0``).

    JSON Schema counts 3.0 as an integer, so schemathesis sends it as valid data for
    ``type: integer``; msgspec's strict decoding (microasgi's, for every model but
    pydantic's) takes only ``3`` for an ``int``, and a schema cannot say so.
    """
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, dict):
        return any(_has_integral_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_integral_float(v) for v in value)
    return False


@at_root.parametrize()
@settings
def test_at_the_root(case: Any) -> None:
    call_and_validate(case)


@under_api.parametrize()
@settings
def test_mounted_under_api(case: Any) -> None:
    assert case.operation.base_url.endswith("/api")
    # Starlette's Mount matches "/api/{path}" with a pattern whose "." stops at a line
    # feed: such a path never reaches the app, and Starlette answers its own 404, in
    # text/plain. The status is documented; the content type of another app's page is not.
    outside = any("\n" in str(v) for v in (case.path_parameters or {}).values())
    call_and_validate(case, *([content_type_conformance] if outside else []))


def test_every_operation_is_checked() -> None:
    operations = [result.ok() for result in at_root.get_all_operations()]
    assert len(operations) == 21
    mounted = [result.ok() for result in under_api.get_all_operations()]
    assert [op.label for op in mounted] == [op.label for op in operations]
