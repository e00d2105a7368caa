"""Response headers, checked as they are set; uploaded files as Werkzeug's FileStorage."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import werkzeug.datastructures

from microasgi.datastructures import ResponseHeaders

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
    h.add_header("Set-Cookie", "c=3")
    assert h.getlist("Set-Cookie") == ["a=1", "b=2", "c=3"]
    assert isinstance(h, werkzeug.datastructures.Headers)


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


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\r\nX-Evil: 1", "a\x00b", "a\x0bb", "a\x7fb"])
def test_response_headers_refuse_control_characters(value: str) -> None:
    h = ResponseHeaders()
    h.add("X-Ok", "ok")
    for action in (
        lambda: h.__setitem__("X-Bad", value),
        lambda: h.add("X-Bad", value),
        lambda: h.add("X-Bad", "v", param=value),
        lambda: h.set("X-Bad", value),
        lambda: h.add_header("X-Bad", value),
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
    assert list(h.items()) == [("X-Ok", "ok")]


def test_response_headers_refuse_control_characters_in_update() -> None:
    h = ResponseHeaders()
    with pytest.raises(ValueError):
        h.update({"X-Bad": "a\r\nb"})
    assert "X-Bad" not in h


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
