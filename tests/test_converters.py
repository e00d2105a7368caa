from __future__ import annotations

import uuid
from typing import Any

import pytest

from microasgi.exceptions import NotFound
from microasgi.routing import Map, Rule
from microasgi.routing.converters import (
    DEFAULT_CONVERTERS,
    AnyConverter,
    BaseConverter,
    FloatConverter,
    IntegerConverter,
    PathConverter,
    UnicodeConverter,
    UUIDConverter,
    ValidationError,
)


def matcher(rule: str) -> Map:
    urls = Map()
    urls.add(Rule(rule, endpoint="view"))
    return urls


def matches(rule: str, path: str) -> dict[str, Any] | None:
    """The values of ``rule`` for ``path``, or None when it does not match."""
    try:
        return matcher(rule).match(path, "GET")[1]
    except NotFound:
        return None


def test_default_converters_are_werkzeugs_names() -> None:
    converters = DEFAULT_CONVERTERS
    assert converters == {
        "default": UnicodeConverter,
        "string": UnicodeConverter,
        "any": AnyConverter,
        "path": PathConverter,
        "int": IntegerConverter,
        "float": FloatConverter,
        "uuid": UUIDConverter,
    }


def test_validation_error_is_a_value_error() -> None:
    assert issubclass(ValidationError, ValueError)


class TestBaseConverter:
    def test_class_attributes(self) -> None:
        assert BaseConverter.regex == "[^/]+"
        assert BaseConverter.weight == 100
        assert BaseConverter.part_isolating is True

    def test_keeps_the_map_and_ignores_extra_arguments(self) -> None:
        urls = Map()
        converter = BaseConverter(urls, 1, two=2)
        assert converter.map is urls

    def test_to_python_is_identity(self) -> None:
        assert BaseConverter(Map()).to_python("a b") == "a b"

    def test_to_url_quotes_everything_but_segment_safe_characters(self) -> None:
        converter = BaseConverter(Map())
        assert converter.to_url("a b/é?#%") == "a%20b%2F%C3%A9%3F%23%25"
        assert converter.to_url("!$&'()*+,;=:@") == "!$&'()*+,;=:@"
        assert converter.to_url(42) == "42"

    def test_subclass_regex_with_slash_spans_segments(self) -> None:
        class Spanning(BaseConverter):
            regex = "[a-z/]+"

        class Isolated(BaseConverter):
            regex = "[^/]{2}"

        class Declared(BaseConverter):
            regex = "a/b"
            part_isolating = True

        class Inherited(Spanning):
            pass

        assert Spanning.part_isolating is False
        assert Isolated.part_isolating is True
        assert Declared.part_isolating is True
        assert Inherited.part_isolating is False


class TestUnicodeConverter:
    def test_default_is_one_non_empty_segment(self) -> None:
        assert UnicodeConverter(Map()).regex == "[^/]+"
        assert matches("/<name>", "/héllo wörld") == {"name": "héllo wörld"}
        assert matches("/<string:name>", "/a") == {"name": "a"}
        assert matches("/<name>", "/a/b") is None

    def test_length(self) -> None:
        assert matches("/<string(length=2):code>", "/en") == {"code": "en"}
        assert matches("/<string(length=2):code>", "/eng") is None
        assert matches("/<string(length=2):code>", "/e") is None

    def test_minlength_and_maxlength(self) -> None:
        assert matches("/<string(minlength=3):s>", "/ab") is None
        assert matches("/<string(minlength=3):s>", "/abcdef") == {"s": "abcdef"}
        assert matches("/<string(maxlength=3):s>", "/abcd") is None
        assert matches("/<string(minlength=2, maxlength=3):s>", "/abc") == {"s": "abc"}
        assert matches("/<string(2, 3):s>", "/a") is None

    def test_to_url_quotes_slash(self) -> None:
        assert UnicodeConverter(Map()).to_url("a/b c") == "a%2Fb%20c"


class TestIntegerConverter:
    def test_unsigned_digits(self) -> None:
        assert matches("/<int:n>", "/42") == {"n": 42}
        assert matches("/<int:n>", "/-1") is None
        assert matches("/<int:n>", "/4.2") is None
        assert matches("/<int:n>", "/x") is None

    def test_only_ascii_digits(self) -> None:
        assert matches("/<int:n>", "/\u0663") is None  # ARABIC-INDIC DIGIT THREE

    def test_more_digits_than_python_converts_is_no_match(self) -> None:
        assert matches("/<int:n>", "/" + "9" * 5000) is None

    def test_a_subclass_with_its_own_regex_keeps_it(self) -> None:
        # The router reads plain <int> segments without the regex; a subclass that
        # changes it must still be asked (one that changes to_python: see
        # test_validation_error_means_no_match).
        class Hex(IntegerConverter):
            regex = "[0-9a-f]+"
            num_convert = staticmethod(lambda text: int(text, 16))  # type: ignore[assignment]

        urls = Map()
        urls.converters["hex"] = Hex
        urls.add(Rule("/hex/<hex:n>", endpoint="hex"))
        assert urls.match("/hex/ff", "GET")[1] == {"n": 255}

    def test_signed(self) -> None:
        assert matches("/<int(signed=True):n>", "/-7") == {"n": -7}
        assert matches("/<int(signed=True):n>", "/7") == {"n": 7}

    def test_min_and_max(self) -> None:
        assert matches("/<int(min=1):n>", "/0") is None
        assert matches("/<int(min=1, max=10):n>", "/10") == {"n": 10}
        assert matches("/<int(max=10):n>", "/11") is None
        assert matches("/<int(min=-3, signed=True):n>", "/-4") is None

    def test_fixed_digits(self) -> None:
        assert matches("/<int(fixed_digits=4):n>", "/0042") == {"n": 42}
        assert matches("/<int(fixed_digits=4):n>", "/42") is None
        assert IntegerConverter(Map(), fixed_digits=4).to_url(42) == "0042"

    def test_to_url(self) -> None:
        converter = IntegerConverter(Map())
        assert converter.to_url(5) == "5"
        assert converter.to_url("17") == "17"
        with pytest.raises(ValidationError, match="not signed"):
            converter.to_url(-1)
        assert IntegerConverter(Map(), signed=True).to_url(-1) == "-1"
        with pytest.raises(ValueError):
            converter.to_url("abc")

    def test_weight_beats_strings(self) -> None:
        assert IntegerConverter.weight < UnicodeConverter.weight


class TestFloatConverter:
    def test_needs_a_dot(self) -> None:
        assert matches("/<float:x>", "/1.5") == {"x": 1.5}
        assert matches("/<float:x>", "/1") is None
        assert matches("/<float:x>", "/-1.5") is None

    def test_signed_min_max(self) -> None:
        assert matches("/<float(signed=True):x>", "/-1.5") == {"x": -1.5}
        assert matches("/<float(min=0.5):x>", "/0.25") is None
        assert matches("/<float(max=2.0):x>", "/2.5") is None

    def test_rejects_fixed_digits(self) -> None:
        urls = Map()
        with pytest.raises(ValueError, match="bad arguments to converter 'float'"):
            urls.add(Rule("/<float(fixed_digits=2):x>", endpoint="x"))

    def test_to_url_never_uses_an_exponent(self) -> None:
        converter = FloatConverter(Map())
        assert converter.to_url(1.5) == "1.5"
        assert converter.to_url(2) == "2.0"
        assert converter.to_url(1e-05) == "0.00001"
        assert converter.to_url(1e20) == "100000000000000000000.0"
        assert converter.to_python(converter.to_url(0.1)) == 0.1

    def test_to_url_refuses_what_would_not_match(self) -> None:
        converter = FloatConverter(Map())
        with pytest.raises(ValidationError):
            converter.to_url(float("inf"))
        with pytest.raises(ValidationError):
            converter.to_url(-1.0)
        assert FloatConverter(Map(), signed=True).to_url(-1.0) == "-1.0"


class TestPathConverter:
    def test_attributes(self) -> None:
        assert PathConverter.part_isolating is False
        assert PathConverter.weight == 200

    def test_spans_segments(self) -> None:
        assert matches("/<path:p>", "/a/b/c.txt") == {"p": "a/b/c.txt"}
        assert matches("/static/<path:p>", "/static/x") == {"p": "x"}
        assert matches("/static/<path:p>", "/static/") is None

    def test_to_url_keeps_slashes(self) -> None:
        assert PathConverter(Map()).to_url("a b/ü") == "a%20b/%C3%BC"


class TestUUIDConverter:
    ID = uuid.UUID("12345678-1234-5678-1234-567812345678")

    def test_to_python_gives_a_uuid(self) -> None:
        assert matches("/<uuid:id>", f"/{self.ID}") == {"id": self.ID}
        assert matches("/<uuid:id>", f"/{str(self.ID).upper()}") == {"id": self.ID}
        assert matches("/<uuid:id>", "/12345678") is None
        assert matches("/<uuid:id>", f"/{self.ID.hex}") is None

    def test_to_url(self) -> None:
        converter = UUIDConverter(Map())
        assert converter.to_url(self.ID) == str(self.ID)
        assert converter.to_url(str(self.ID).upper()) == str(self.ID)
        with pytest.raises(ValueError):
            converter.to_url("nope")


class TestAnyConverter:
    def test_matches_one_of_the_items(self) -> None:
        rule = "/<any(about, help, 'a.b'):page>"
        assert matches(rule, "/about") == {"page": "about"}
        assert matches(rule, "/help") == {"page": "help"}
        assert matches(rule, "/a.b") == {"page": "a.b"}
        assert matches(rule, "/axb") is None
        assert matches(rule, "/abouts") is None

    def test_to_python_and_to_url_check_items(self) -> None:
        converter = AnyConverter(Map(), "a", "b")
        assert converter.to_python("a") == "a"
        assert converter.to_url("b") == "b"
        with pytest.raises(ValidationError):
            converter.to_python("c")
        with pytest.raises(ValidationError, match="not one of"):
            converter.to_url("c")

    def test_needs_items(self) -> None:
        with pytest.raises(TypeError, match="at least one choice"):
            AnyConverter(Map())
        with pytest.raises(ValueError, match="at least one choice"):
            matcher("/<any:page>")


class TestCustomConverter:
    class ListConverter(BaseConverter):
        def to_python(self, value: str) -> list[str]:
            return value.split(",")

        def to_url(self, value: Any) -> str:
            return ",".join(BaseConverter.to_url(self, item) for item in value)

    def test_registered_on_the_map(self) -> None:
        urls = Map()
        urls.converters["list"] = self.ListConverter
        urls.add(Rule("/tags/<list:tags>", endpoint="tags"))
        assert urls.match("/tags/a,b,c", "GET")[1] == {"tags": ["a", "b", "c"]}
        assert urls.build("tags", {"tags": ["x y", "z"]}) == "/tags/x%20y,z"

    def test_map_converters_is_a_copy(self) -> None:
        urls = Map()
        urls.converters["list"] = self.ListConverter
        assert "list" not in DEFAULT_CONVERTERS
        assert "list" not in Map().converters

    def test_converter_arguments_reach_the_constructor(self) -> None:
        class Regex(BaseConverter):
            def __init__(self, map: Map, pattern: str) -> None:
                super().__init__(map)
                self.regex = pattern

        urls = Map()
        urls.converters["re"] = Regex
        urls.add(Rule(r"/<re('[a-z]{3}\d'):code>", endpoint="code"))
        assert urls.match("/abc1", "GET")[1] == {"code": "abc1"}
        with pytest.raises(NotFound):
            urls.match("/abcd", "GET")

    def test_validation_error_means_no_match(self) -> None:
        class Even(IntegerConverter):
            def to_python(self, value: str) -> Any:
                number = super().to_python(value)
                if number % 2:
                    raise ValidationError(value)
                return number

        urls = Map()
        urls.converters["even"] = Even
        urls.add(Rule("/n/<even:n>", endpoint="even"))
        urls.add(Rule("/n/<n>", endpoint="other"))
        assert urls.match("/n/4", "GET")[0].endpoint == "even"
        assert urls.match("/n/5", "GET") == (next(urls.iter_rules("other")), {"n": "5"})
