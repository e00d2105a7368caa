"""microasgi.typed.models: the text converters of query parameters, headers, cookies and
form fields. The common types (int, float, bool, str, optionals, lists, bounds from
msgspec.Meta) take a fast path; its values and errors must be msgspec's exactly. And the
typed body's fast check of its content type, which must agree with ``request.is_json``."""

# No `from __future__ import annotations`: the views below are read by their hints.
import math
from typing import Annotated, Any

import msgspec
import pytest

from microasgi import Header, MicroASGI, Query
from microasgi.typed import models
from microasgi.typed.models import Invalid, convert_text, text_converter

TYPES: list[Any] = [
    int,
    float,
    bool,
    str,
    int | None,
    float | None,
    bool | None,
    str | None,
    Annotated[int, msgspec.Meta(ge=1, le=100)],
    Annotated[int, msgspec.Meta(gt=-3, lt=3)],
    Annotated[float, msgspec.Meta(gt=0, le=1.5)],
    Annotated[int, msgspec.Meta(multiple_of=3)],
    Annotated[str, msgspec.Meta(min_length=2)],
    Annotated[int, msgspec.Meta(ge=0)] | None,
]
LIST_TYPES: list[Any] = [
    list[int],
    list[float],
    list[bool],
    list[str],
    list[Annotated[int, msgspec.Meta(ge=0)]],
    Annotated[list[int], msgspec.Meta(max_length=1)],
    list[int] | None,
]
TEXTS = [
    *["0", "-0", "5", "-5", "+5", "007", "-07", "00", "1_000", " 5", "5 ", "-", "--5"],
    *["5.0", "5.5", "-0.0", "0.5", ".5", "5.", "1e3", "1E3", "1e-3", "nan", "inf", "-inf"],
    *["true", "false", "True", "FALSE", "TRUE", "1", "null", "None", "", "x"],
    *["\u0665", "\u00b2", "\uff15", "99999999999999999999", "-99999999999999999999"],
    *["0.1000000000000000055511151231257827", "123456789.123456789", "3", "100", "101"],
]


def _outcome(call: Any, *args: Any) -> Any:
    try:
        value = call(*args)
    except Invalid as exc:
        return ("invalid", exc.failures)
    if isinstance(value, float) and math.isnan(value):
        return ("nan", float)
    if isinstance(value, list):
        return ("list", [(type(v), repr(v)) for v in value])
    return (type(value), repr(value))


@pytest.mark.parametrize("tp", TYPES, ids=repr)
def test_text_converters_agree_with_msgspec(tp: Any) -> None:
    convert = text_converter(tp)
    for text in TEXTS:
        expected = _outcome(convert_text, text, tp)
        assert _outcome(convert, text) == expected, (tp, text)


@pytest.mark.parametrize("tp", LIST_TYPES, ids=repr)
def test_list_converters_agree_with_msgspec(tp: Any) -> None:
    convert = text_converter(tp)
    for text in TEXTS:
        for texts in ([text], ["3", text], [text, "oops", text]):
            expected = _outcome(convert_text, texts, tp)
            assert _outcome(convert, texts) == expected, (tp, texts)


def test_common_values_skip_msgspec(monkeypatch: pytest.MonkeyPatch) -> None:
    converters = {
        "5": text_converter(int),
        "-5": text_converter(int | None),
        "2.5": text_converter(float),
        "true": text_converter(bool),
        "0": text_converter(bool),
        "word": text_converter(str | None),
        "42": text_converter(Annotated[int, msgspec.Meta(ge=1, le=100)]),
    }
    calls: list[Any] = []
    real = models.convert_text

    def counting(value: Any, tp: Any) -> Any:
        calls.append(value)
        return real(value, tp)

    monkeypatch.setattr(models, "convert_text", counting)
    assert [convert(text) for text, convert in converters.items()] == [
        5,
        -5,
        2.5,
        True,
        False,
        "word",
        42,
    ]
    assert text_converter(list[int])(["1", "-2"]) == [1, -2]
    assert calls == []
    # What the fast path leaves alone still goes to msgspec, and so does a failure.
    assert text_converter(int)("1e3") == 1000
    assert text_converter(int | None)("null") is None
    assert text_converter(str | None)("null") == "null"
    with pytest.raises(Invalid):
        text_converter(Annotated[int, msgspec.Meta(ge=1, le=100)])("101")
    assert calls == ["1e3", "null", "null", "101"]


def test_query_and_header_parameters_through_a_view() -> None:
    app = MicroASGI(__name__)

    @app.get("/items/<int:item_id>")
    async def items(
        item_id: int,
        limit: Annotated[int, Query(), msgspec.Meta(ge=1, le=100)] = 20,
        offset: int = 0,
        ratio: float | None = None,
        flag: bool = False,
        ids: Annotated[list[int], Query("id")] = [],  # noqa: B006
        retries: Annotated[int, Header("X-Retries")] = 0,
    ) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "limit": limit,
            "offset": offset,
            "ratio": ratio,
            "flag": flag,
            "ids": ids,
            "retries": retries,
        }

    client = app.test_client()
    response = client.get(
        "/items/7?limit=100&offset=-3&ratio=-0.25&flag=True&id=1&id=-2",
        headers={"X-Retries": "2"},
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "item_id": 7,
        "limit": 100,
        "offset": -3,
        "ratio": -0.25,
        "flag": True,
        "ids": [1, -2],
        "retries": 2,
    }
    assert client.get("/items/7").get_json()["limit"] == 20

    response = client.get(
        "/items/7?limit=0&offset=007&flag=yes&id=1&id=x", headers={"X-Retries": "-"}
    )
    assert response.status_code == 422
    errors = [(e["loc"], e["type"], e["msg"]) for e in response.get_json()["errors"]]
    assert errors == [
        (["query", "limit"], "value", "Expected `int` >= 1"),
        (["query", "offset"], "type", "Expected `int`, got `str`"),
        (["query", "flag"], "type", "Expected `bool`, got `str`"),
        (["query", "id", 1], "type", "Expected `int`, got `str`"),
        (["header", "X-Retries"], "type", "Expected `int`, got `str`"),
    ]
    response = client.get("/items/7?limit=101")
    assert response.get_json()["errors"][0]["msg"] == "Expected `int` <= 100"


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ("Application/JSON", 200),
        ("application/problem+json", 200),
        ("application/jsonx", 415),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
    ],
)
def test_json_body_content_types(content_type: str, status: int) -> None:
    class Point(msgspec.Struct):
        x: int
        y: int

    app = MicroASGI(__name__)

    @app.post("/points")
    async def points(point: Point) -> dict[str, int]:
        return {"sum": point.x + point.y}

    response = app.test_client().post(
        "/points", data=b'{"x": 1, "y": -3}', content_type=content_type
    )
    assert response.status_code == status
    if status == 200:
        assert response.get_json() == {"sum": -2}
    else:
        assert response.get_json()["status"] == 415


def test_nested_body_errors_name_their_place() -> None:
    class Line(msgspec.Struct):
        sku: str
        quantity: int

    class Order(msgspec.Struct):
        lines: list[Line]
        notes: dict[str, list[int]] = {}

    app = MicroASGI(__name__)

    @app.post("/orders")
    async def orders(order: Order) -> dict[str, int]:
        return {"lines": len(order.lines)}

    client = app.test_client()
    lines = [{"sku": f"s{i}", "quantity": i} for i in range(5)]
    assert client.post("/orders", json={"lines": lines}).get_json() == {"lines": 5}
    lines[3]["quantity"] = "x"
    (error,) = client.post("/orders", json={"lines": lines}).get_json()["errors"]
    assert (error["loc"], error["pointer"]) == (
        ["body", "lines", 3, "quantity"],
        "/lines/3/quantity",
    )
    lines[3] = {"quantity": 3}
    (error,) = client.post("/orders", json={"lines": lines}).get_json()["errors"]
    assert (error["loc"], error["type"]) == (["body", "lines", 3, "sku"], "missing")
    body = {"lines": [], "notes": {"a.b": [1, "x"]}}
    (error,) = client.post("/orders", json=body).get_json()["errors"]
    assert error["loc"] == ["body", "notes", "...", 1]
