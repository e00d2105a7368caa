from __future__ import annotations

import dataclasses
import decimal
import io
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from markupsafe import Markup

from microasgi import json as mjson
from microasgi.json import DefaultJSONProvider, JSONProvider


class FakeResponse:
    def __init__(self, body: str, mimetype: str | None = None) -> None:
        self.body = body
        self.mimetype = mimetype


class FakeApp:
    response_class = FakeResponse

    def __init__(self, debug: bool = False) -> None:
        self.debug = debug


@pytest.fixture
def app() -> FakeApp:
    return FakeApp()


@pytest.fixture
def provider(app: FakeApp) -> DefaultJSONProvider:
    return DefaultJSONProvider(app)


@dataclasses.dataclass
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Event:
    name: str
    when: date
    where: Point


class Html:
    def __html__(self) -> str:
        return "<b>safe</b>"


class Opaque:
    pass


# --- provider defaults -----------------------------------------------------


def test_default_provider_settings(provider: DefaultJSONProvider) -> None:
    assert provider.ensure_ascii is True
    assert provider.sort_keys is True
    assert provider.compact is None
    assert provider.mimetype == "application/json"


def test_dumps_sorts_keys_and_uses_default_separators(provider: DefaultJSONProvider) -> None:
    assert provider.dumps({"b": 1, "a": [1, 2]}) == '{"a": [1, 2], "b": 1}'


def test_dumps_ensures_ascii(provider: DefaultJSONProvider) -> None:
    assert provider.dumps("é☃") == '"\\u00e9\\u2603"'


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "null"), (True, "true"), (1, "1"), (1.5, "1.5"), ("s", '"s"'), ([], "[]")],
)
def test_dumps_plain_values(provider: DefaultJSONProvider, value: Any, expected: str) -> None:
    assert provider.dumps(value) == expected


def test_dumps_kwargs_override_provider_settings(provider: DefaultJSONProvider) -> None:
    data = {"b": "é", "a": 1}
    assert provider.dumps(data, sort_keys=False, ensure_ascii=False) == '{"b": "é", "a": 1}'
    assert provider.dumps(data, separators=(",", ":")) == '{"a":1,"b":"\\u00e9"}'
    assert provider.dumps({"a": 1}, indent=2) == '{\n  "a": 1\n}'


def test_dumps_kwargs_keep_default_handler(provider: DefaultJSONProvider) -> None:
    assert provider.dumps(decimal.Decimal("1.10"), indent=2) == '"1.10"'


def test_dumps_custom_default_kwarg(provider: DefaultJSONProvider) -> None:
    assert provider.dumps(Opaque(), default=lambda o: "opaque") == '"opaque"'


def test_instance_settings_changed_after_use_take_effect(provider: DefaultJSONProvider) -> None:
    data = {"b": "é", "a": 1}
    assert provider.dumps(data) == '{"a": 1, "b": "\\u00e9"}'
    provider.sort_keys = False
    assert provider.dumps(data) == '{"b": "\\u00e9", "a": 1}'
    provider.ensure_ascii = False
    assert provider.dumps(data) == '{"b": "é", "a": 1}'
    provider.default = lambda o: "custom"
    assert provider.dumps(Opaque()) == '"custom"'


def test_settings_changes_apply_to_responses(provider: DefaultJSONProvider) -> None:
    assert provider.response({"b": 1, "a": 2}).body == '{"a":2,"b":1}\n'
    provider.sort_keys = False
    assert provider.response({"b": 1, "a": 2}).body == '{"b":1,"a":2}\n'


def test_providers_do_not_share_settings() -> None:
    first = DefaultJSONProvider(FakeApp())
    second = DefaultJSONProvider(FakeApp())
    first.sort_keys = False
    assert first.dumps({"b": 1, "a": 2}) == '{"b": 1, "a": 2}'
    assert second.dumps({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'


def test_subclass_class_attributes(app: FakeApp) -> None:
    class Unsorted(DefaultJSONProvider):
        sort_keys = False
        ensure_ascii = False
        mimetype = "application/vnd.api+json"

    provider = Unsorted(app)
    assert provider.dumps({"b": "é", "a": 1}) == '{"b": "é", "a": 1}'
    assert provider.response(x=1).mimetype == "application/vnd.api+json"


def test_subclass_default_method_extends_handler(app: FakeApp) -> None:
    class WithSets(DefaultJSONProvider):
        def default(self, o: Any) -> Any:
            if isinstance(o, set):
                return sorted(o)
            return super().default(o)

    provider = WithSets(app)
    assert provider.dumps({3, 1, 2}) == "[1, 2, 3]"
    assert provider.dumps(uuid.UUID(int=0)) == '"00000000-0000-0000-0000-000000000000"'
    assert provider.response({2, 1}).body == "[1,2]\n"


# --- the default handler ---------------------------------------------------


def test_date_is_an_http_date(provider: DefaultJSONProvider) -> None:
    assert provider.dumps(date(2015, 1, 1)) == '"Thu, 01 Jan 2015 00:00:00 GMT"'


def test_naive_datetime_is_taken_as_utc(provider: DefaultJSONProvider) -> None:
    value = datetime(2015, 1, 1, 12, 30, 5)
    assert provider.dumps(value) == '"Thu, 01 Jan 2015 12:30:05 GMT"'


def test_aware_datetime_is_converted_to_utc(provider: DefaultJSONProvider) -> None:
    value = datetime(2015, 1, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert provider.dumps(value) == '"Wed, 31 Dec 2014 23:30:00 GMT"'


def test_utc_datetime(provider: DefaultJSONProvider) -> None:
    value = datetime(2024, 2, 29, 8, 0, tzinfo=timezone.utc)
    assert provider.dumps(value) == '"Thu, 29 Feb 2024 08:00:00 GMT"'


def test_decimal_is_a_string(provider: DefaultJSONProvider) -> None:
    assert provider.dumps(decimal.Decimal("0.10")) == '"0.10"'


def test_uuid_is_a_string(provider: DefaultJSONProvider) -> None:
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert provider.dumps(value) == '"12345678-1234-5678-1234-567812345678"'


def test_dataclass_is_a_dict_recursively(provider: DefaultJSONProvider) -> None:
    event = Event("launch", date(2015, 1, 1), Point(1, 2))
    assert provider.dumps(event) == (
        '{"name": "launch", "when": "Thu, 01 Jan 2015 00:00:00 GMT", "where": {"x": 1, "y": 2}}'
    )


def test_dataclass_type_is_not_serializable(provider: DefaultJSONProvider) -> None:
    with pytest.raises(TypeError, match="Object of type type is not JSON serializable"):
        provider.dumps(Point)


def test_html_object_is_its_markup(provider: DefaultJSONProvider) -> None:
    assert provider.dumps(Html()) == '"<b>safe</b>"'
    assert provider.dumps(Markup("<i>x</i>")) == '"<i>x</i>"'


def test_unknown_type_raises(provider: DefaultJSONProvider) -> None:
    with pytest.raises(TypeError, match=r"^Object of type Opaque is not JSON serializable$"):
        provider.dumps({"a": Opaque()})


def test_default_handler_is_exposed(provider: DefaultJSONProvider) -> None:
    assert provider.default(decimal.Decimal("2")) == "2"
    assert DefaultJSONProvider.default(decimal.Decimal("2")) == "2"


# --- loads / dump / load ---------------------------------------------------


def test_loads_str_and_bytes(provider: DefaultJSONProvider) -> None:
    assert provider.loads('{"a": [1, null]}') == {"a": [1, None]}
    assert provider.loads(b'{"a": "\xc3\xa9"}') == {"a": "é"}


def test_loads_kwargs(provider: DefaultJSONProvider) -> None:
    assert provider.loads("1.10", parse_float=decimal.Decimal) == decimal.Decimal("1.10")


def test_loads_invalid_raises_value_error(provider: DefaultJSONProvider) -> None:
    with pytest.raises(ValueError):
        provider.loads("{nope")


def test_dump_and_load_files(provider: DefaultJSONProvider) -> None:
    out = io.StringIO()
    provider.dump({"b": 1, "a": decimal.Decimal("3")}, out)
    assert out.getvalue() == '{"a": "3", "b": 1}'
    assert provider.load(io.StringIO(out.getvalue())) == {"a": "3", "b": 1}
    assert provider.load(io.BytesIO(b"[1, 2]")) == [1, 2]


def test_dump_passes_kwargs(provider: DefaultJSONProvider) -> None:
    out = io.StringIO()
    provider.dump({"a": 1}, out, indent=1)
    assert out.getvalue() == '{\n "a": 1\n}'


# --- response --------------------------------------------------------------


def test_response_is_compact_with_newline(provider: DefaultJSONProvider) -> None:
    response = provider.response({"b": [1, 2], "a": "x"})
    assert isinstance(response, FakeResponse)
    assert response.body == '{"a":"x","b":[1,2]}\n'
    assert response.mimetype == "application/json"


def test_response_indents_in_debug_mode() -> None:
    provider = DefaultJSONProvider(FakeApp(debug=True))
    assert provider.response({"a": 1, "b": [2]}).body == ('{\n  "a": 1,\n  "b": [\n    2\n  ]\n}\n')


def test_response_follows_debug_changes(app: FakeApp, provider: DefaultJSONProvider) -> None:
    assert provider.response(a=1).body == '{"a":1}\n'
    app.debug = True
    assert provider.response(a=1).body == '{\n  "a": 1\n}\n'


def test_response_compact_true_wins_over_debug() -> None:
    provider = DefaultJSONProvider(FakeApp(debug=True))
    provider.compact = True
    assert provider.response({"a": 1}).body == '{"a":1}\n'


def test_response_compact_false_indents_without_debug(provider: DefaultJSONProvider) -> None:
    provider.compact = False
    assert provider.response({"a": 1}).body == '{\n  "a": 1\n}\n'


def test_response_single_argument(provider: DefaultJSONProvider) -> None:
    assert provider.response([1, 2]).body == "[1,2]\n"
    assert provider.response("text").body == '"text"\n'
    assert provider.response(None).body == "null\n"


def test_response_several_arguments_are_a_list(provider: DefaultJSONProvider) -> None:
    assert provider.response(1, "two", {"three": 3}).body == '[1,"two",{"three":3}]\n'


def test_response_kwargs_are_a_dict(provider: DefaultJSONProvider) -> None:
    assert provider.response(name="x", id=1).body == '{"id":1,"name":"x"}\n'


def test_response_without_arguments_is_null(provider: DefaultJSONProvider) -> None:
    assert provider.response().body == "null\n"


def test_response_args_and_kwargs_raises(provider: DefaultJSONProvider) -> None:
    with pytest.raises(TypeError) as info:
        provider.response(1, a=2)
    assert str(info.value) == "app.json.response() takes either args or kwargs, not both"


def test_response_uses_default_handler(provider: DefaultJSONProvider) -> None:
    body = provider.response(when=date(2015, 1, 1), id=uuid.UUID(int=1)).body
    assert (
        body
        == '{"id":"00000000-0000-0000-0000-000000000001","when":"Thu, 01 Jan 2015 00:00:00 GMT"}\n'
    )


def test_response_unknown_type_raises(provider: DefaultJSONProvider) -> None:
    with pytest.raises(TypeError, match="Object of type Opaque"):
        provider.response(Opaque())


def test_response_goes_through_overridden_dumps(app: FakeApp) -> None:
    calls: list[dict[str, Any]] = []

    class Recording(DefaultJSONProvider):
        def dumps(self, obj: Any, **kwargs: Any) -> str:
            calls.append(kwargs)
            return super().dumps(obj, **kwargs)

    provider = Recording(app)
    assert provider.response({"b": 1, "a": 2}).body == '{"a":2,"b":1}\n'
    app.debug = True
    assert provider.response(a=1).body == '{\n  "a": 1\n}\n'
    assert calls == [{"separators": (",", ":")}, {"indent": 2}]


def test_response_uses_the_apps_response_class(app: FakeApp) -> None:
    class OtherResponse(FakeResponse):
        pass

    app.response_class = OtherResponse
    assert isinstance(DefaultJSONProvider(app).response(1), OtherResponse)


# --- the base provider -----------------------------------------------------


def test_base_provider_requires_dumps_and_loads(app: FakeApp) -> None:
    provider = JSONProvider(app)
    with pytest.raises(NotImplementedError):
        provider.dumps({})
    with pytest.raises(NotImplementedError):
        provider.loads("{}")


def test_custom_provider_gets_dump_load_and_response(app: FakeApp) -> None:
    class Upper(JSONProvider):
        def dumps(self, obj: Any, **kwargs: Any) -> str:
            return str(obj).upper()

        def loads(self, s: str | bytes, **kwargs: Any) -> Any:
            return s.lower() if isinstance(s, str) else s.decode().lower()

    provider = Upper(app)
    out = io.StringIO()
    provider.dump("abc", out)
    assert out.getvalue() == "ABC"
    assert provider.load(io.StringIO("XYZ")) == "xyz"
    assert provider.load(io.BytesIO(b"XYZ")) == "xyz"
    response = provider.response("abc")
    assert (response.body, response.mimetype) == ("ABC\n", "application/json")
    assert provider.response(1, 2).body == "[1, 2]\n"
    assert provider.response().body == "NONE\n"
    with pytest.raises(TypeError, match="either args or kwargs"):
        provider.response(1, a=2)


# --- module-level helpers outside an app context ---------------------------


def test_module_dumps_without_app_uses_stdlib_with_default_handler() -> None:
    assert mjson.dumps({"b": 1, "a": 2}) == '{"b": 1, "a": 2}'
    assert mjson.dumps({"d": decimal.Decimal("1.5")}) == '{"d": "1.5"}'
    assert mjson.dumps(date(2015, 1, 1)) == '"Thu, 01 Jan 2015 00:00:00 GMT"'


def test_module_dumps_without_app_passes_kwargs() -> None:
    assert mjson.dumps({"b": 1, "a": 2}, sort_keys=True, indent=1) == '{\n "a": 2,\n "b": 1\n}'
    assert mjson.dumps(Opaque(), default=lambda o: "x") == '"x"'


def test_module_dumps_without_app_unknown_type_raises() -> None:
    with pytest.raises(TypeError, match="Object of type Opaque is not JSON serializable"):
        mjson.dumps(Opaque())


def test_module_loads_without_app() -> None:
    assert mjson.loads('{"a": 1}') == {"a": 1}
    assert mjson.loads(b"[true]") == [True]
    assert mjson.loads("2.5", parse_float=decimal.Decimal) == decimal.Decimal("2.5")


def test_jsonify_without_app_raises() -> None:
    with pytest.raises(RuntimeError, match=r"^Working outside of application context"):
        mjson.jsonify(a=1)
