"""Flask-flavoured containers: MultiDict, headers, Accept, uploaded files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import werkzeug.datastructures

from microasgi import BadRequest, HTTPException
from microasgi.datastructures import (
    CombinedMultiDict,
    Headers,
    MIMEAccept,
    MultiDict,
    ResponseHeaders,
)
from microasgi.exceptions import BadRequestKeyError
from microasgi.responses import error_response

# -- MultiDict ------------------------------------------------------------------------------------


@pytest.fixture
def md() -> MultiDict[str]:
    return MultiDict([("a", "1"), ("b", "x"), ("a", "2"), ("n", "3"), ("n", "no"), ("e", "")])


def test_multidict_first_value_wins(md: MultiDict[str]) -> None:
    assert md["a"] == "1"
    assert md.get("a") == "1"
    assert md.getlist("a") == ["1", "2"]
    assert dict(md.items()) == {"a": "1", "b": "x", "n": "3", "e": ""}
    assert list(md.keys()) == ["a", "b", "n", "e"]
    assert list(md.values()) == ["1", "x", "3", ""]
    assert md.multi_items() == [
        ("a", "1"),
        ("b", "x"),
        ("a", "2"),
        ("n", "3"),
        ("n", "no"),
        ("e", ""),
    ]
    assert "a" in md
    assert "z" not in md
    assert len(md) == 4


def test_multidict_get_default_and_type(md: MultiDict[str]) -> None:
    assert md.get("missing") is None
    assert md.get("missing", "d") == "d"
    assert md.get("missing", 5, type=int) == 5
    assert md.get("a", type=int) == 1
    assert md.get("b", type=int) is None
    assert md.get("b", -1, type=int) == -1
    assert md.get("e", type=int) is None
    assert md.get("a", type=float) == 1.0


def test_multidict_getlist_with_type_skips_bad_values(md: MultiDict[str]) -> None:
    assert md.getlist("n", type=int) == [3]
    assert md.getlist("a", type=int) == [1, 2]
    assert md.getlist("missing") == []


def test_multidict_to_dict(md: MultiDict[str]) -> None:
    assert md.to_dict() == {"a": "1", "b": "x", "n": "3", "e": ""}
    assert md.to_dict(flat=False) == {"a": ["1", "2"], "b": ["x"], "n": ["3", "no"], "e": [""]}
    assert list(md.lists()) == [("a", ["1", "2"]), ("b", ["x"]), ("n", ["3", "no"]), ("e", [""])]


def test_multidict_from_mapping() -> None:
    d = MultiDict({"x": "1", "y": "2"})
    assert d["x"] == "1"
    assert d.getlist("y") == ["2"]


def test_multidict_missing_key_is_bad_request(md: MultiDict[str]) -> None:
    with pytest.raises(KeyError) as info:
        md["missing"]
    error = info.value
    assert isinstance(error, BadRequestKeyError)
    assert isinstance(error, BadRequest)
    assert isinstance(error, HTTPException)
    assert error.code == 400
    assert error_response(error).status_code == 400
    assert error.args == ("missing",)
    with pytest.raises(BadRequest):
        md["missing"]


def test_multidict_is_immutable(md: MultiDict[str]) -> None:
    with pytest.raises(TypeError):
        md["a"] = "new"  # type: ignore[index]


def test_combined_multidict_first_dict_wins() -> None:
    args = MultiDict([("shared", "arg"), ("a", "1")])
    form = MultiDict([("shared", "form"), ("f", "2")])
    combined = CombinedMultiDict([args, form])
    assert combined["shared"] == "arg"
    assert combined.getlist("shared") == ["arg", "form"]
    assert combined.to_dict() == {"shared": "arg", "a": "1", "f": "2"}
    with pytest.raises(BadRequestKeyError):
        combined["nope"]


# -- request Headers ------------------------------------------------------------------------------


@pytest.fixture
def headers() -> Headers:
    return Headers(
        raw=[
            (b"x-count", b"5"),
            (b"x-bad", b"five"),
            (b"accept", b"text/html"),
            (b"x-multi", b"a"),
            (b"x-multi", b"b"),
        ]
    )


def test_headers_get_with_type(headers: Headers) -> None:
    assert headers.get("X-Count") == "5"
    assert headers.get("x-count", type=int) == 5
    assert headers.get("X-COUNT", type=float) == 5.0
    assert headers.get("X-Bad", type=int) is None
    assert headers.get("X-Bad", 0, type=int) == 0
    assert headers.get("X-Missing") is None
    assert headers.get("X-Missing", "d") == "d"
    assert headers.get("X-Missing", 7, type=int) == 7
    assert headers.get("X-Multi") == "a"
    assert headers.getlist("X-Multi") == ["a", "b"]


def test_headers_case_insensitive(headers: Headers) -> None:
    assert headers["ACCEPT"] == "text/html"
    assert "Accept" in headers
    assert "X-Missing" not in headers


def test_headers_missing_item_is_bad_request(headers: Headers) -> None:
    with pytest.raises(BadRequestKeyError) as info:
        headers["X-Missing"]
    assert isinstance(info.value, KeyError)
    assert info.value.code == 400


# -- ResponseHeaders ------------------------------------------------------------------------------


def test_response_headers_add_with_params() -> None:
    h = ResponseHeaders()
    h.add("Content-Disposition", "attachment", filename="my file.txt")
    h.add("X-Opts", "v", some_param="a b", skipped=None)
    assert h.getlist("Content-Disposition") == ['attachment; filename="my file.txt"']
    assert h["X-Opts"] == 'v; some-param="a b"'


def test_response_headers_add_params_escape_quotes() -> None:
    h = ResponseHeaders()
    h.add("Content-Disposition", "attachment", filename='a"; evil="1.txt')
    assert h["Content-Disposition"] == 'attachment; filename="a\\"; evil=\\"1.txt"'


def test_response_headers_add_keeps_duplicates() -> None:
    h = ResponseHeaders()
    h.add("Set-Cookie", "a=1")
    h.add("set-cookie", "b=2")
    h.append("Set-Cookie", "c=3")
    assert h.getlist("Set-Cookie") == ["a=1", "b=2", "c=3"]
    assert h.raw == [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"set-cookie", b"c=3")]


def test_response_headers_update_replaces() -> None:
    h = ResponseHeaders()
    h.add("X-A", "1")
    h.add("X-A", "2")
    h.add("X-Keep", "k")
    h.update({"x-a": "3", "X-New": 4})
    assert h.getlist("X-A") == ["3"]
    assert h["X-New"] == "4"
    assert h["X-Keep"] == "k"
    h.update([("X-Keep", "changed")])
    assert h.getlist("X-Keep") == ["changed"]


def test_response_headers_update_with_list_values() -> None:
    # Flask's (werkzeug's) update: a list value sets the header once per item.
    h = ResponseHeaders()
    h.add("X-L", "old")
    h.update({"X-L": ["a", "b"]})
    assert h.getlist("X-L") == ["a", "b"]


def test_response_headers_update_from_headers_object() -> None:
    h = ResponseHeaders()
    h.add("X-A", "old")
    other = ResponseHeaders()
    other.add("X-A", "new")
    other.add("X-B", "b")
    h.update(other)
    assert h.getlist("X-A") == ["new"]
    assert h["X-B"] == "b"


def test_response_headers_set_extend_remove() -> None:
    h = ResponseHeaders()
    h.add("X-A", "1")
    h.add("X-A", "2")
    h.set("X-A", 3)
    assert h.getlist("X-A") == ["3"]
    h.extend({"X-A": "4"})
    h.extend([("X-A", "5"), ("X-B", "b")])
    assert h.getlist("X-A") == ["3", "4", "5"]
    h.remove("X-A")
    assert "X-A" not in h
    h.remove("X-A")
    assert h.get("X-B") == "b"
    assert h.get("X-N", type=int) is None
    h["X-N"] = "12"
    assert h.get("x-n", type=int) == 12


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\r\nX-Evil: 1", "a\x00b"])
def test_response_headers_refuse_crlf(value: str) -> None:
    h = ResponseHeaders()
    h.add("X-Ok", "ok")
    for action in (
        lambda: h.__setitem__("X-Bad", value),
        lambda: h.add("X-Bad", value),
        lambda: h.add("X-Bad", "v", param=value),
        lambda: h.set("X-Bad", value),
        lambda: h.append("X-Bad", value),
        lambda: h.extend({"X-Bad": value}),
        lambda: h.extend([("X-Bad", value)]),
        lambda: h.update({"X-Bad": value}),
        lambda: h.update([("X-Bad", value)]),
        lambda: h.setdefault("X-Bad", value),
        lambda: h.__setitem__(f"X-{value}", "v"),
        lambda: h.add(f"X-{value}", "v"),
    ):
        with pytest.raises(ValueError):
            action()
    assert h.raw == [(b"x-ok", b"ok")]


def test_response_headers_refuse_crlf_in_update_after_valid_items() -> None:
    h = ResponseHeaders()
    with pytest.raises(ValueError):
        h.update({"X-Bad": "a\r\nb"})
    assert "X-Bad" not in h


# -- MIMEAccept -----------------------------------------------------------------------------------


def test_accept_quality() -> None:
    accept = MIMEAccept("text/html;q=0.5, application/json, text/*;q=0.3")
    assert accept.quality("application/json") == 1.0
    assert accept.quality("text/html") == 0.5
    assert accept.quality("text/plain") == 0.3
    assert accept.quality("image/png") == 0
    assert "application/json" in accept
    assert "image/png" not in accept
    assert accept.best == "application/json"
    assert accept.accept_json is True
    assert accept.accept_html is True


def test_accept_wildcard() -> None:
    accept = MIMEAccept("image/*, */*;q=0.1")
    assert accept.quality("image/png") == 1.0
    assert accept.quality("IMAGE/WEBP") == 1.0
    assert accept.quality("application/json") == 0.1
    assert accept.best_match(["application/json", "image/png"]) == "image/png"
    assert accept.best_match(["application/json", "text/html"]) == "application/json"


def test_accept_best_match_ties_go_to_the_first_offer() -> None:
    accept = MIMEAccept("application/json, text/html")
    assert accept.best_match(["text/html", "application/json"]) == "text/html"
    assert accept.best_match(["application/json", "text/html"]) == "application/json"
    accept = MIMEAccept("*/*")
    assert accept.best_match(["text/csv", "application/json"]) == "text/csv"


def test_accept_best_match_default() -> None:
    accept = MIMEAccept("text/html")
    assert accept.best_match(["application/json"]) is None
    assert accept.best_match(["application/json"], default="text/plain") == "text/plain"


def test_accept_q_zero_is_refused() -> None:
    accept = MIMEAccept("application/json;q=0, text/html")
    assert accept.quality("application/json") == 0
    assert "application/json" not in accept
    assert accept.best_match(["application/json", "text/html"]) == "text/html"


def test_accept_most_specific_range_wins() -> None:
    # RFC 9110 12.5.1: the most specific media range decides, even with a lower q.
    accept = MIMEAccept("text/html;q=0, */*;q=0.8")
    assert accept.quality("text/html") == 0
    assert "text/html" not in accept
    assert accept.quality("application/json") == 0.8
    assert accept.best_match(["text/html", "application/json"]) == "application/json"


def test_accept_malformed_quality() -> None:
    accept = MIMEAccept("text/html;q=abc, application/json;q=0.4")
    assert accept.quality("text/html") == 0
    assert accept.best_match(["text/html", "application/json"]) == "application/json"


@pytest.mark.parametrize("header", [None, ""])
def test_empty_accept_accepts_everything(header: str | None) -> None:
    accept = MIMEAccept(header)
    assert accept.quality("application/json") == 1.0
    assert "image/png" in accept
    assert accept.best_match(["text/csv", "application/json"]) == "text/csv"
    assert accept.best is None
    assert bool(accept) is False


# -- FileStorage ----------------------------------------------------------------------------------


def test_file_storage_in_a_view(app: Any, client: Any, tmp_path: Path) -> None:
    from microasgi import request

    @app.post("/up")
    def up() -> dict[str, Any]:
        f = request.files["doc"]
        f.save(tmp_path / "doc.csv")
        return {
            "filename": f.filename,
            "mimetype": f.mimetype,
            "truthy": bool(f),
            "werkzeug": isinstance(f, werkzeug.datastructures.FileStorage),
        }

    response = client.post("/up", data={"doc": (io.BytesIO(b"a,b\n1,2\n"), "doc.csv", "text/csv")})
    assert response.get_json() == {
        "filename": "doc.csv",
        "mimetype": "text/csv",
        "truthy": True,
        "werkzeug": True,
    }
    assert (tmp_path / "doc.csv").read_bytes() == b"a,b\n1,2\n"
