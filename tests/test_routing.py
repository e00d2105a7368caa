from __future__ import annotations

import gc
import itertools
import uuid
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microasgi.exceptions import MethodNotAllowed, NotFound, RequestRedirect
from microasgi.routing import BuildError, Map, Rule
from microasgi.routing.converters import BaseConverter, IntegerConverter, ValidationError


def make_map(*rules: Rule, strict_slashes: bool = True) -> Map:
    urls = Map(strict_slashes=strict_slashes)
    for rule in rules:
        urls.add(rule)
    return urls


def endpoint_of(urls: Map, path: str, method: str = "GET", websocket: bool = False) -> str:
    return urls.match(path, method, websocket=websocket)[0].endpoint


class TestRule:
    def test_default_methods(self) -> None:
        assert Rule("/", endpoint="i").methods == {"GET", "HEAD", "OPTIONS"}

    def test_methods_are_uppercased_with_head_and_options_added(self) -> None:
        assert Rule("/", endpoint="i", methods=["post"]).methods == {"POST", "OPTIONS"}
        assert Rule("/", endpoint="i", methods=["get", "put"]).methods == {
            "GET",
            "HEAD",
            "PUT",
            "OPTIONS",
        }
        rule = Rule("/", endpoint="i", methods=["GET"], provide_automatic_options=False)
        assert rule.methods == {"GET", "HEAD"}
        assert isinstance(rule.methods, frozenset)

    def test_methods_as_a_string_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match=r"methods=\['POST'\]"):
            Rule("/", endpoint="i", methods="POST")

    def test_empty_methods(self) -> None:
        with pytest.raises(ValueError, match="has no methods"):
            Rule("/", endpoint="i", methods=[])

    def test_websocket_rules_are_get_only(self) -> None:
        assert Rule("/ws", endpoint="ws", websocket=True).methods == {"GET"}
        assert Rule("/ws", endpoint="ws", websocket=True, methods=["GET"]).methods == {"GET"}
        with pytest.raises(ValueError, match="always GET"):
            Rule("/ws", endpoint="ws", websocket=True, methods=["POST"])

    def test_attributes(self) -> None:
        rule = Rule("/u/<int:id>/<name>", endpoint="u", defaults={"x": 1}, strict_slashes=False)
        assert rule.rule == "/u/<int:id>/<name>"
        assert rule.endpoint == "u"
        # Werkzeug's: the variables and the defaults' names.
        assert rule.arguments == frozenset({"id", "name", "x"})
        assert rule.defaults == {"x": 1}
        assert rule.strict_slashes is False
        assert rule.provide_automatic_options is True
        assert rule.websocket is False
        assert rule.plan is None
        assert Rule("/", endpoint="i", defaults={}).defaults is None

    def test_defaults_are_copied(self) -> None:
        given_defaults = {"page": 1}
        rule = Rule("/", endpoint="i", defaults=given_defaults)
        given_defaults["page"] = 2
        assert rule.defaults == {"page": 1}

    def test_plan_is_a_free_slot(self) -> None:
        rule = Rule("/", endpoint="i")
        rule.plan = ("anything", 1)
        assert rule.plan == ("anything", 1)
        assert not hasattr(rule, "__dict__")
        with pytest.raises(AttributeError):
            rule.unknown = 1  # type: ignore[attr-defined]

    def test_strict_slashes_comes_from_the_map_when_unset(self) -> None:
        loose, strict = Rule("/a", endpoint="a"), Rule("/b", endpoint="b", strict_slashes=True)
        make_map(loose, strict, strict_slashes=False)
        assert loose.strict_slashes is False
        assert strict.strict_slashes is True

    def test_repr(self) -> None:
        rule = Rule("/users/<int:id>", endpoint="users.show")
        assert repr(rule) == "<Rule '/users/<int:id>' (GET, HEAD, OPTIONS) -> users.show>"
        ws = Rule("/chat", endpoint="chat", websocket=True)
        assert repr(ws) == "<Rule '/chat' (websocket) -> chat>"

    def test_str_is_the_rule_string(self) -> None:
        # As Werkzeug's: extensions print rules with str() (Flask-Limiter's CLI).
        rule = Rule("/users/<int:id>", endpoint="users.show")
        assert str(rule) == f"{rule}" == "/users/<int:id>"


class TestRuleSyntax:
    @pytest.mark.parametrize(
        ("rule", "message"),
        [
            ("users", "must start with '/'"),
            ("", "must start with '/'"),
            ("/users/<int:>", "malformed variable"),
            ("/users/<id", "malformed variable"),
            ("/users/id>", "malformed variable"),
            ("/users/<1id>", "malformed variable"),
            ("/users/<int:user id>", "malformed variable"),
            ("/users/<int(:id>", "malformed variable"),
            ("/<a>/<int:a>", "variable name 'a' twice"),
            ("/<int(min=1, 2):x>", "positional converter argument '2' comes after"),
            ("/<int(min=1, min=2):x>", "repeats converter argument 'min'"),
            ("/<any(a,,b):x>", "unreadable converter arguments"),
        ],
    )
    def test_bad_rules(self, rule: str, message: str) -> None:
        with pytest.raises(ValueError, match=message) as info:
            Rule(rule, endpoint="e")
        assert repr(rule) in str(info.value)

    def test_unknown_converter_names_the_rule_and_the_fix(self) -> None:
        with pytest.raises(ValueError) as info:
            make_map(Rule("/<list:tags>", endpoint="e"))
        message = str(info.value)
        assert "'/<list:tags>'" in message
        assert "unknown converter 'list'" in message
        assert "map.converters['list'] = " in message

    def test_bad_converter_arguments(self) -> None:
        with pytest.raises(ValueError, match="bad arguments to converter 'int'"):
            make_map(Rule("/<int(colour=1):x>", endpoint="e"))

    def test_bad_converter_regex(self) -> None:
        class Broken(BaseConverter):
            regex = "([a-z"

        urls = Map()
        urls.converters["broken"] = Broken
        with pytest.raises(ValueError, match="bad regex"):
            urls.add(Rule("/<broken:x>", endpoint="e"))

    def test_converter_arguments_are_python_literals_or_words(self) -> None:
        seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

        class Recording(BaseConverter):
            def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
                super().__init__(map)
                seen.append((args, kwargs))

        urls = Map()
        urls.converters["rec"] = Recording
        urls.add(
            Rule(
                "/<rec(1, -2, 3.5, word, 'a, b', \"[^/]+\", True, None, key=False, k2=0):x>",
                endpoint="e",
            )
        )
        assert seen == [
            ((1, -2, 3.5, "word", "a, b", "[^/]+", True, None), {"key": False, "k2": 0})
        ]

    def test_whitespace_inside_variables_is_allowed(self) -> None:
        urls = make_map(Rule("/<int( min = 1 ) : n >", endpoint="e"))
        assert urls.match("/3", "GET")[1] == {"n": 3}

    def test_a_rule_joins_one_map_only(self) -> None:
        rule = Rule("/", endpoint="i")
        make_map(rule)
        with pytest.raises(ValueError, match="already in a map"):
            make_map(rule)


class TestMatch:
    def test_static_and_dynamic(self) -> None:
        urls = make_map(
            Rule("/", endpoint="index"),
            Rule("/users/<int:user_id>", endpoint="user"),
            Rule("/users/<int:user_id>/posts/<slug>", endpoint="post"),
        )
        assert urls.match("/", "GET") == (next(urls.iter_rules("index")), {})
        assert urls.match("/users/7", "GET")[1] == {"user_id": 7}
        assert urls.match("/users/7/posts/hi", "GET")[1] == {"user_id": 7, "slug": "hi"}
        with pytest.raises(NotFound):
            urls.match("/users/x", "GET")
        with pytest.raises(NotFound):
            urls.match("/users/7/posts", "GET")

    def test_path_must_start_with_a_slash(self) -> None:
        urls = make_map(Rule("/a", endpoint="a"), Rule("/<x>", endpoint="x"))
        with pytest.raises(NotFound):
            urls.match("a", "GET")
        with pytest.raises(NotFound):
            urls.match("", "GET")

    def test_static_beats_dynamic_whatever_the_order(self) -> None:
        urls = make_map(
            Rule("/users/<name>", endpoint="by_name"),
            Rule("/users/new", endpoint="new"),
        )
        assert endpoint_of(urls, "/users/new") == "new"
        assert endpoint_of(urls, "/users/bob") == "by_name"

    def test_lighter_converters_first(self) -> None:
        urls = make_map(
            Rule("/<path:p>", endpoint="path"),
            Rule("/<name>", endpoint="string"),
            Rule("/<int:n>", endpoint="int"),
        )
        assert endpoint_of(urls, "/5") == "int"
        assert endpoint_of(urls, "/five") == "string"
        assert endpoint_of(urls, "/five/six") == "path"

    def test_more_static_text_first(self) -> None:
        urls = make_map(
            Rule("/<name>", endpoint="string"),
            Rule("/page-<int:n>", endpoint="page"),
            Rule("/p<int:n>", endpoint="p"),
        )
        assert urls.match("/page-3", "GET") == (next(urls.iter_rules("page")), {"n": 3})
        assert endpoint_of(urls, "/p3") == "p"
        assert endpoint_of(urls, "/page-x") == "string"

    def test_mixed_segments(self) -> None:
        urls = make_map(
            Rule("/files/<name>.<ext>", endpoint="file"),
            Rule("/v<int:major>.<int:minor>/docs", endpoint="docs"),
        )
        assert urls.match("/files/report.pdf", "GET")[1] == {"name": "report", "ext": "pdf"}
        # The greedy name keeps every dot but the last, as with Werkzeug.
        assert urls.match("/files/a.tar.gz", "GET")[1] == {"name": "a.tar", "ext": "gz"}
        assert urls.match("/v2.10/docs", "GET")[1] == {"major": 2, "minor": 10}
        with pytest.raises(NotFound):
            urls.match("/files/report", "GET")
        with pytest.raises(NotFound):
            urls.match("/v2/docs", "GET")

    def test_backtracks_when_a_later_segment_fails(self) -> None:
        urls = make_map(
            Rule("/a/<int:n>/edit", endpoint="edit"),
            Rule("/a/<name>/view", endpoint="view"),
        )
        assert urls.match("/a/5/view", "GET")[1] == {"name": "5"}
        assert urls.match("/a/5/edit", "GET")[1] == {"n": 5}

    def test_backtracks_when_a_converter_refuses(self) -> None:
        urls = make_map(
            Rule("/n/<int(max=10):n>", endpoint="small"),
            Rule("/n/<name>", endpoint="other"),
        )
        assert urls.match("/n/10", "GET")[1] == {"n": 10}
        assert urls.match("/n/11", "GET")[1] == {"name": "11"}

    def test_path_converter(self) -> None:
        urls = make_map(
            Rule("/files/<path:p>", endpoint="files"),
            Rule("/files/<path:p>/edit", endpoint="edit"),
            Rule("/files/<path:p>/<int:rev>", endpoint="rev"),
            Rule("/files/special", endpoint="special"),
            Rule("/x<path:rest>", endpoint="prefixed"),
        )
        assert urls.match("/files/a/b/c", "GET")[1] == {"p": "a/b/c"}
        assert urls.match("/files/a/b/edit", "GET")[0].endpoint == "edit"
        assert urls.match("/files/a/b/edit", "GET")[1] == {"p": "a/b"}
        assert urls.match("/files/a/b/3", "GET")[1] == {"p": "a/b", "rev": 3}
        assert endpoint_of(urls, "/files/special") == "special"
        assert endpoint_of(urls, "/files/special/x") == "files"
        assert urls.match("/xy/z", "GET")[1] == {"rest": "y/z"}
        # A strict rule keeps the trailing slash in the value, as the path is spelled.
        assert urls.match("/files/a/", "GET")[1] == {"p": "a/"}

    def test_path_converter_before_a_static_segment(self) -> None:
        urls = make_map(Rule("/<path:wiki>/history", endpoint="history"))
        assert urls.match("/Main/Page/history", "GET")[1] == {"wiki": "Main/Page"}
        with pytest.raises(NotFound):
            urls.match("/history", "GET")

    def test_values_include_defaults_and_are_fresh(self) -> None:
        urls = make_map(
            Rule("/", endpoint="index", defaults={"page": 1}),
            Rule("/<int:id>", endpoint="item", defaults={"kind": "x"}),
            Rule("/plain", endpoint="plain"),
        )
        values = urls.match("/", "GET")[1]
        assert values == {"page": 1}
        values["page"] = 99
        assert urls.match("/", "GET")[1] == {"page": 1}
        assert urls.match("/4", "GET")[1] == {"id": 4, "kind": "x"}
        first, second = urls.match("/plain", "GET")[1], urls.match("/plain", "GET")[1]
        assert first == {} and first is not second

    def test_first_registered_rule_wins(self) -> None:
        urls = make_map(Rule("/a", endpoint="first"), Rule("/a", endpoint="second"))
        assert endpoint_of(urls, "/a") == "first"
        urls = make_map(Rule("/<x>", endpoint="first"), Rule("/<y>", endpoint="second"))
        assert urls.match("/a", "GET")[1] == {"x": "a"}

    def test_rules_sharing_a_node_keep_their_own_names(self) -> None:
        urls = make_map(
            Rule("/<int:a>/x", endpoint="x"),
            Rule("/<int:b>/y", endpoint="y"),
        )
        assert urls.match("/1/x", "GET")[1] == {"a": 1}
        assert urls.match("/1/y", "GET")[1] == {"b": 1}

    def test_unicode_and_reserved_characters_in_static_text(self) -> None:
        urls = make_map(Rule("/café/a b", endpoint="cafe"))
        assert endpoint_of(urls, "/café/a b") == "cafe"
        assert urls.build("cafe") == "/caf%C3%A9/a%20b"

    def test_adding_after_matching(self) -> None:
        urls = make_map(Rule("/a", endpoint="a"))
        assert endpoint_of(urls, "/a") == "a"
        urls.add(Rule("/b/<int:n>", endpoint="b"))
        assert endpoint_of(urls, "/b/1") == "b"

    def test_custom_converter_with_slashes(self) -> None:
        class Segments(BaseConverter):
            regex = "[^/]+(?:/[^/]+)*"

            def to_python(self, value: str) -> list[str]:
                return value.split("/")

        urls = Map()
        urls.converters["segments"] = Segments
        urls.add(Rule("/s/<segments:parts>/end", endpoint="s"))
        assert urls.match("/s/a/b/c/end", "GET")[1] == {"parts": ["a", "b", "c"]}


class TestMethods:
    def test_head_and_options_match_a_get_rule(self) -> None:
        urls = make_map(Rule("/a", endpoint="a"))
        for method in ("GET", "HEAD", "OPTIONS"):
            assert endpoint_of(urls, "/a", method) == "a"

    def test_405_lists_the_union_of_methods(self) -> None:
        urls = make_map(
            Rule("/items", endpoint="list"),
            Rule("/items", endpoint="create", methods=["POST"]),
            Rule("/items/<int:id>", endpoint="update", methods=["PUT"]),
            Rule("/items/<name>", endpoint="delete", methods=["DELETE"]),
            Rule("/items/<path:p>", endpoint="other", methods=["PATCH"]),
        )
        assert endpoint_of(urls, "/items", "POST") == "create"
        with pytest.raises(MethodNotAllowed) as info:
            urls.match("/items", "PUT")
        assert info.value.valid_methods == ["GET", "HEAD", "OPTIONS", "POST"]
        with pytest.raises(MethodNotAllowed) as info:
            urls.match("/items/5", "POST")
        assert info.value.valid_methods == ["DELETE", "OPTIONS", "PATCH", "PUT"]
        assert ("Allow", "DELETE, OPTIONS, PATCH, PUT") in info.value.get_headers()

    def test_a_static_rule_with_another_method_falls_back_to_dynamic(self) -> None:
        urls = make_map(
            Rule("/users/new", endpoint="form"),
            Rule("/users/<name>", endpoint="create", methods=["POST"]),
        )
        assert urls.match("/users/new", "POST")[1] == {"name": "new"}

    def test_without_automatic_options_options_is_405(self) -> None:
        urls = make_map(Rule("/a", endpoint="a", provide_automatic_options=False))
        with pytest.raises(MethodNotAllowed) as info:
            urls.match("/a", "OPTIONS")
        assert info.value.valid_methods == ["GET", "HEAD"]

    def test_allowed_methods(self) -> None:
        urls = make_map(
            Rule("/a", endpoint="get"),
            Rule("/a", endpoint="post", methods=["POST"], provide_automatic_options=False),
            Rule("/<x>", endpoint="put", methods=["PUT"]),
            Rule("/a", endpoint="ws", websocket=True),
            Rule("/b/", endpoint="b", strict_slashes=False, methods=["DELETE"]),
        )
        assert urls.allowed_methods("/a") == {"GET", "HEAD", "OPTIONS", "POST", "PUT"}
        assert urls.allowed_methods("/zzz") == {"PUT", "OPTIONS"}
        assert urls.allowed_methods("/b") == {"DELETE", "OPTIONS", "PUT"}
        assert urls.allowed_methods("/nothing/here") == set()
        assert urls.allowed_methods("nope") == set()


class TestStrictSlashes:
    def test_missing_slash_redirects(self) -> None:
        urls = make_map(Rule("/docs/", endpoint="docs"))
        assert endpoint_of(urls, "/docs/") == "docs"
        with pytest.raises(RequestRedirect) as info:
            urls.match("/docs", "GET")
        assert info.value.new_url == "/docs/"
        assert info.value.code == 308

    def test_redirect_is_quoted(self) -> None:
        urls = make_map(Rule("/<name>/", endpoint="n"))
        with pytest.raises(RequestRedirect) as info:
            urls.match("/a b é", "GET")
        assert info.value.new_url == "/a%20b%20%C3%A9/"

    def test_extra_slash_is_404(self) -> None:
        urls = make_map(Rule("/docs", endpoint="docs"), Rule("/u/<int:n>", endpoint="u"))
        with pytest.raises(NotFound):
            urls.match("/docs/", "GET")
        with pytest.raises(NotFound):
            urls.match("/u/1/", "GET")

    def test_loose_rules_match_both(self) -> None:
        urls = make_map(
            Rule("/with/", endpoint="with", strict_slashes=False),
            Rule("/without", endpoint="without", strict_slashes=False),
            Rule("/n/<int:n>/", endpoint="n", strict_slashes=False),
        )
        for path in ("/with", "/with/"):
            assert endpoint_of(urls, path) == "with"
        for path in ("/without", "/without/"):
            assert endpoint_of(urls, path) == "without"
        assert urls.match("/n/3", "GET")[1] == {"n": 3}
        assert urls.match("/n/3/", "GET")[1] == {"n": 3}

    def test_map_default(self) -> None:
        urls = make_map(Rule("/a/", endpoint="a"), strict_slashes=False)
        assert endpoint_of(urls, "/a") == "a"

    def test_redirect_only_for_a_rule_accepting_the_method(self) -> None:
        urls = make_map(Rule("/a/", endpoint="a", methods=["POST"]))
        with pytest.raises(NotFound):
            urls.match("/a", "GET")
        with pytest.raises(RequestRedirect):
            urls.match("/a", "POST")

    def test_an_exact_match_beats_a_redirect(self) -> None:
        urls = make_map(Rule("/<a>/", endpoint="slash"), Rule("/<b>", endpoint="plain"))
        assert endpoint_of(urls, "/x") == "plain"
        assert endpoint_of(urls, "/x/") == "slash"

    def test_redirect_beats_405(self) -> None:
        urls = make_map(Rule("/a", endpoint="a", methods=["POST"]), Rule("/a/", endpoint="b"))
        with pytest.raises(RequestRedirect):
            urls.match("/a", "GET")

    def test_path_converter_then_slash(self) -> None:
        urls = make_map(Rule("/docs/<path:p>/", endpoint="docs"))
        assert urls.match("/docs/a/b/", "GET")[1] == {"p": "a/b"}
        with pytest.raises(RequestRedirect) as info:
            urls.match("/docs/a/b", "GET")
        assert info.value.new_url == "/docs/a/b/"
        loose = make_map(Rule("/docs/<path:p>/", endpoint="docs", strict_slashes=False))
        assert loose.match("/docs/a/b", "GET")[1] == {"p": "a/b"}
        assert make_map(Rule("/<path:p>", endpoint="p", strict_slashes=False)).match(
            "/a/b/", "GET"
        )[1] == {"p": "a/b"}

    def test_redirect_of_a_surrogate_escaped_path(self) -> None:
        urls = make_map(Rule("/<name>/", endpoint="n"))
        raw = b"/caf\xe9".decode("utf-8", "surrogateescape")  # Latin-1 bytes in a UTF-8 server
        with pytest.raises(RequestRedirect) as info:
            urls.match(raw, "GET")
        assert info.value.new_url == "/caf%E9/"
        with pytest.raises(NotFound):
            urls.match("/\ud800", "GET")

    def test_root(self) -> None:
        urls = make_map(Rule("/", endpoint="index"))
        assert endpoint_of(urls, "/") == "index"
        with pytest.raises(NotFound):
            urls.match("//", "GET")


class TestDefaultsRedirect:
    """Werkzeug's redirect_defaults: a URL spelling out a default goes to the canonical one."""

    def make(self) -> Map:
        return make_map(
            Rule("/users/", endpoint="users", defaults={"page": 1}),
            Rule("/users/page/<int:page>", endpoint="users"),
        )

    def test_default_value_redirects_to_the_rule_providing_it(self) -> None:
        urls = self.make()
        with pytest.raises(RequestRedirect) as info:
            urls.match("/users/page/1", "GET")
        assert info.value.new_url == "/users/"
        assert urls.match("/users/page/2", "GET")[1] == {"page": 2}
        assert urls.match("/users/", "GET")[1] == {"page": 1}

    def test_catch_all_pattern_does_not_redirect(self) -> None:
        urls = make_map(
            Rule("/", endpoint="spa", defaults={"path": ""}),
            Rule("/<path:path>", endpoint="spa"),
        )
        assert urls.match("/", "GET")[1] == {"path": ""}
        assert urls.match("/a/b", "GET")[1] == {"path": "a/b"}

    def test_static_aliases(self) -> None:
        urls = make_map(
            Rule("/a", endpoint="e", defaults={"lang": "en"}),
            Rule("/b", endpoint="e", defaults={"lang": "en"}),
        )
        assert endpoint_of(urls, "/a") == "e"
        with pytest.raises(RequestRedirect) as info:
            urls.match("/b", "GET")
        assert info.value.new_url == "/a"


class TestWebsocket:
    def test_http_and_websocket_rules_are_separate(self) -> None:
        urls = make_map(
            Rule("/chat", endpoint="page"),
            Rule("/chat", endpoint="socket", websocket=True),
            Rule("/only-ws/<int:room>", endpoint="room", websocket=True),
            Rule("/only-http/<int:room>", endpoint="http_room"),
        )
        assert endpoint_of(urls, "/chat") == "page"
        assert endpoint_of(urls, "/chat", websocket=True) == "socket"
        assert urls.match("/only-ws/3", "GET", websocket=True)[1] == {"room": 3}
        with pytest.raises(NotFound):
            urls.match("/only-ws/3", "GET")
        with pytest.raises(NotFound):
            urls.match("/only-http/3", "GET", websocket=True)

    def test_websocket_ignores_the_method(self) -> None:
        urls = make_map(Rule("/ws", endpoint="ws", websocket=True))
        assert endpoint_of(urls, "/ws", "POST", websocket=True) == "ws"

    def test_websocket_rules_are_buildable(self) -> None:
        urls = make_map(Rule("/rooms/<int:room>", endpoint="room", websocket=True))
        assert urls.build("room", {"room": 4}) == "/rooms/4"
        assert urls.build("room", {"room": 4}, method="GET") == "/rooms/4"


class TestBuild:
    def test_simple(self) -> None:
        urls = make_map(
            Rule("/", endpoint="index"),
            Rule("/users/<int:id>/<name>", endpoint="user"),
        )
        assert urls.build("index") == "/"
        assert urls.build("user", {"id": 3, "name": "bob"}) == "/users/3/bob"

    def test_quoting(self) -> None:
        urls = make_map(
            Rule("/s/<s>", endpoint="string"),
            Rule("/p/<path:p>", endpoint="path"),
        )
        assert urls.build("string", {"s": "a b/ü?#"}) == "/s/a%20b%2F%C3%BC%3F%23"
        assert urls.build("path", {"p": "a b/ü"}) == "/p/a%20b/%C3%BC"
        assert urls.build("string", {"s": "!$&'()*+,;=:@"}) == "/s/!$&'()*+,;=:@"

    def test_unknown_values_become_the_query_string(self) -> None:
        urls = make_map(Rule("/u/<int:id>", endpoint="user"))
        url = urls.build("user", {"id": 1, "q": "a b&c", "tag": ["x", "y"], "skip": None, "n": 2})
        assert url == "/u/1?q=a+b%26c&tag=x&tag=y&n=2"
        assert urls.build("user", {"id": 1, "q": "é", "t": ("a", None)}) == "/u/1?q=%C3%A9&t=a"
        assert urls.build("user", {"id": 1, "q": "x"}, append_unknown=False) == "/u/1"
        assert urls.build("user", {"id": 1, "empty": []}) == "/u/1"

    def test_none_counts_as_missing(self) -> None:
        urls = make_map(Rule("/post/", endpoint="post"), Rule("/post/<int:id>", endpoint="post"))
        assert urls.build("post", {"id": None}) == "/post/"

    def test_rules_using_more_values_are_tried_first(self) -> None:
        urls = make_map(Rule("/post/", endpoint="post"), Rule("/post/<int:id>", endpoint="post"))
        assert urls.build("post") == "/post/"
        assert urls.build("post", {"id": 5}) == "/post/5"
        assert urls.build("post", {"id": 5, "x": 1}) == "/post/5?x=1"

    def test_defaults(self) -> None:
        urls = make_map(
            Rule("/users/", endpoint="users", defaults={"page": 1}),
            Rule("/users/page/<int:page>", endpoint="users"),
        )
        assert urls.build("users") == "/users/"
        assert urls.build("users", {"page": 1}) == "/users/"
        assert urls.build("users", {"page": 2}) == "/users/page/2"
        assert urls.build("users", {"page": 2, "sort": "name"}) == "/users/page/2?sort=name"

    def test_defaults_are_not_query_values(self) -> None:
        urls = make_map(Rule("/", endpoint="index", defaults={"lang": "en"}))
        assert urls.build("index", {"lang": "en"}) == "/"

    def test_method(self) -> None:
        urls = make_map(
            Rule("/read/<int:id>", endpoint="item"),
            Rule("/write/<int:id>", endpoint="item", methods=["POST"]),
        )
        assert urls.build("item", {"id": 1}) == "/read/1"
        assert urls.build("item", {"id": 1}, method="POST") == "/write/1"
        assert urls.build("item", {"id": 1}, method="HEAD") == "/read/1"

    def test_converter_refusal_tries_the_next_rule(self) -> None:
        urls = make_map(
            Rule("/<any(a, b):x>", endpoint="e"),
            Rule("/other/<x>", endpoint="e"),
        )
        assert urls.build("e", {"x": "a"}) == "/a"
        assert urls.build("e", {"x": "z"}) == "/other/z"

    def test_converters_format_values(self) -> None:
        ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
        urls = make_map(
            Rule("/<float:x>/<uuid:u>/<int(fixed_digits=3):n>", endpoint="e"),
        )
        assert urls.build("e", {"x": 0.5, "u": ident, "n": 7}) == f"/0.5/{ident}/007"


class TestBuildError:
    def test_is_a_lookup_error_with_details(self) -> None:
        urls = make_map(Rule("/", endpoint="index"))
        with pytest.raises(LookupError) as info:
            urls.build("nope", {"a": 1}, method="GET")
        error = info.value
        assert isinstance(error, BuildError)
        assert (error.endpoint, error.values, error.method) == ("nope", {"a": 1}, "GET")

    def test_unknown_endpoint_suggests_a_close_one(self) -> None:
        urls = make_map(Rule("/", endpoint="index"), Rule("/u", endpoint="users.show"))
        with pytest.raises(BuildError) as info:
            urls.build("users.shwo")
        assert str(info.value) == (
            "Could not build url for endpoint 'users.shwo'. Did you mean 'users.show' instead?"
        )
        with pytest.raises(BuildError, match="No rule has this endpoint"):
            urls.build("zzzzzzzz")

    def test_missing_values(self) -> None:
        urls = make_map(Rule("/u/<int:id>/<name>", endpoint="user"))
        with pytest.raises(BuildError) as info:
            urls.build("user", {"name": "x"})
        assert str(info.value) == (
            "Could not build url for endpoint 'user' with values ['name']. "
            "Did you forget to specify values ['id']?"
        )

    def test_missing_values_of_the_closest_rule(self) -> None:
        urls = make_map(
            Rule("/a/<x>/<y>/<z>/<q>", endpoint="e"),
            Rule("/b/<x>/<w>", endpoint="e"),
        )
        with pytest.raises(BuildError, match=r"forget to specify values \['w'\]"):
            urls.build("e", {"x": 1, "y": 2})

    def test_method_mismatch_lists_the_accepted_methods(self) -> None:
        urls = make_map(Rule("/a", endpoint="a"), Rule("/b", endpoint="a", methods=["PUT"]))
        with pytest.raises(BuildError) as info:
            urls.build("a", method="POST")
        assert str(info.value) == (
            "Could not build url for endpoint 'a' ('POST'). "
            "The endpoint accepts only the methods ['GET', 'HEAD', 'OPTIONS', 'PUT']."
        )

    def test_defaults_clash(self) -> None:
        urls = make_map(Rule("/", endpoint="index", defaults={"page": 1}))
        with pytest.raises(BuildError, match=r"has defaults \{'page': 1\}"):
            urls.build("index", {"page": 2})

    def test_converter_refusal(self) -> None:
        urls = make_map(Rule("/<int:n>", endpoint="n"))
        with pytest.raises(BuildError, match="IntegerConverter of rule '/<int:n>' refuses n=-1"):
            urls.build("n", {"n": -1})


class TestIsEndpointExpecting:
    def test_arguments_of_any_rule_of_the_endpoint(self) -> None:
        urls = make_map(
            Rule("/<lang_code>/", endpoint="index"),
            Rule("/", endpoint="index", defaults={"lang_code": "en"}),
            Rule("/<lang_code>/u/<int:id>", endpoint="user"),
            Rule("/plain", endpoint="plain"),
        )
        assert urls.is_endpoint_expecting("index", "lang_code") is True
        assert urls.is_endpoint_expecting("user", "lang_code", "id") is True
        assert urls.is_endpoint_expecting("user", "lang_code", "page") is False
        assert urls.is_endpoint_expecting("plain", "lang_code") is False
        assert urls.is_endpoint_expecting("missing", "lang_code") is False


class TestIterRules:
    def test_registration_order(self) -> None:
        rules = [
            Rule("/b/<int:x>", endpoint="b"),
            Rule("/a", endpoint="a"),
            Rule("/b", endpoint="b", defaults={"x": 1}),
        ]
        urls = make_map(*rules)
        assert list(urls.iter_rules()) == rules
        assert list(urls.iter_rules("b")) == [rules[0], rules[2]]
        assert list(urls.iter_rules("missing")) == []


class TestDomains:
    def test_rule_attributes(self) -> None:
        rule = Rule("/", endpoint="e", subdomain="api", host="x.test")
        assert (rule.subdomain, rule.host) == ("api", "x.test")
        plain = Rule("/", endpoint="f")
        assert (plain.subdomain, plain.host) == (None, None)
        Map([plain], default_subdomain="www")
        assert plain.subdomain == "www"  # as Werkzeug: the map's default is filled in

    def test_domain_variables_are_arguments_and_values(self) -> None:
        rule = Rule("/<int:id>", endpoint="e", host="<user>.example.com")
        urls = Map([rule], host_matching=True)
        assert rule.arguments == frozenset({"id", "user"})
        assert urls.find_on_domain("bob.example.com", "/7", "GET") == (
            rule,
            {"user": "bob", "id": 7},
        )
        assert isinstance(urls.find_on_domain("example.com", "/7", "GET"), NotFound)

    def test_the_map_decides_between_subdomain_and_host(self) -> None:
        def rule() -> Rule:
            return Rule("/", endpoint="e", subdomain="api", host="api.test")

        by_subdomain, by_host = Map([rule()]), Map([rule()], host_matching=True)
        assert by_subdomain.match("/", "GET", domain="api")[0].endpoint == "e"
        with pytest.raises(NotFound):
            by_subdomain.match("/", "GET", domain="api.test")
        assert by_host.match("/", "GET", domain="api.test")[0].endpoint == "e"
        with pytest.raises(NotFound):
            by_host.match("/", "GET", domain="api")

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"subdomain": "a/b"}, "subdomain 'a/b' of URL rule '/<x>' is malformed"),
            ({"subdomain": "<x"}, "is malformed"),
            ({"subdomain": "<x>"}, "uses the variable name 'x' twice"),
        ],
    )
    def test_bad_domains(self, kwargs: dict[str, str], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            Map([Rule("/<x>", endpoint="e", **kwargs)])

    def test_path_matching_sees_the_default_domain_only(self) -> None:
        urls = make_map(
            Rule("/", endpoint="index"),
            Rule("/", endpoint="api", subdomain="api"),
            Rule("/only-api", endpoint="only", subdomain="api"),
        )
        assert endpoint_of(urls, "/") == "index"
        with pytest.raises(NotFound):
            urls.match("/only-api", "GET")
        assert urls.match("/", "GET", domain="api")[0].endpoint == "api"
        assert urls.match("/", "GET", domain="")[0].endpoint == "index"

    def test_exact_domains_before_patterns_more_static_text_first(self) -> None:
        urls = make_map(
            Rule("/", endpoint="user", subdomain="<user>"),
            Rule("/", endpoint="shop", subdomain="shop-<int:n>"),
            Rule("/", endpoint="www", subdomain="www"),
        )
        assert urls.match("/", "GET", domain="www")[0].endpoint == "www"
        assert urls.match("/", "GET", domain="shop-3") == (urls._rules[1], {"n": 3})
        assert urls.match("/", "GET", domain="shop-x") == (urls._rules[0], {"user": "shop-x"})
        with pytest.raises(NotFound):
            urls.match("/", "GET", domain="")  # <user> takes one character at least

    def test_a_miss_on_one_domain_tries_the_next(self) -> None:
        urls = make_map(
            Rule("/a", endpoint="api_a", subdomain="api", methods=["POST"]),
            Rule("/a", endpoint="user_a", subdomain="<user>"),
            Rule("/b/", endpoint="user_b", subdomain="<user>"),
        )
        assert urls.match("/a", "GET", domain="api")[0].endpoint == "user_a"
        with pytest.raises(MethodNotAllowed) as info:
            urls.match("/a", "PUT", domain="api")
        assert set(info.value.valid_methods or ()) == {"GET", "HEAD", "OPTIONS", "POST"}
        assert urls.allowed_methods("/a", domain="api") == {"GET", "HEAD", "OPTIONS", "POST"}
        assert urls.allowed_methods("/a", domain="bob") == {"GET", "HEAD", "OPTIONS"}
        assert urls.allowed_methods("/a") == set()
        with pytest.raises(RequestRedirect) as redirect:
            urls.match("/b", "GET", domain="api")
        assert redirect.value.new_url == "/b/"

    def test_under_host_matching_a_rule_without_a_host_matches_no_host(self) -> None:
        urls = Map([Rule("/", endpoint="nohost")], host_matching=True)
        with pytest.raises(NotFound):
            urls.match("/", "GET", domain="example.com")
        assert urls.match("/", "GET")[0].endpoint == "nohost"  # the path-only API

    def test_has_domains(self) -> None:
        urls = make_map(Rule("/", endpoint="a"))
        assert not urls.has_domains
        urls.add(Rule("/b", endpoint="b", host="b.test"))  # no host matching: ignored
        assert not urls.has_domains
        urls.add(Rule("/c", endpoint="c", subdomain="<c>"))
        assert urls.has_domains
        assert Map([Rule("/", endpoint="a", host="a.test")], host_matching=True).has_domains

    def test_websocket_rules_on_domains(self) -> None:
        urls = make_map(
            Rule("/ws", endpoint="http", subdomain="<room>"),
            Rule("/ws", endpoint="ws", subdomain="<room>", websocket=True),
        )
        assert urls.match("/ws", "GET", websocket=True, domain="lobby")[0].endpoint == "ws"
        assert urls.match("/ws", "GET", domain="lobby")[0].endpoint == "http"

    def test_build_with_domain(self) -> None:
        urls = make_map(
            Rule("/", endpoint="index"),
            Rule("/u/<int:id>", endpoint="user", subdomain="<name>"),
        )
        assert urls.build_with_domain("index") == ("", "/", False)
        assert urls.build_with_domain("user", {"name": "bob", "id": 1, "x": 2}) == (
            "bob",
            "/u/1?x=2",
            False,
        )
        with pytest.raises(BuildError, match=r"forget to specify values \['name'\]"):
            urls.build_with_domain("user", {"id": 1})

    def test_converters_argument(self) -> None:
        class Upper(BaseConverter):
            def to_python(self, value: str) -> str:
                return value.upper()

        urls = Map([Rule("/<up:x>", endpoint="e")], converters={"up": Upper})
        assert urls.match("/ab", "GET")[1] == {"x": "AB"}
        assert "int" in urls.converters


# Rules and requests that Werkzeug's MapAdapter and ours must answer alike.
# provide_automatic_options=False: Werkzeug's rules have no automatic OPTIONS.
_SUBDOMAIN_RULES: list[tuple[str, dict[str, Any]]] = [
    ("/", {"endpoint": "index"}),
    ("/", {"endpoint": "sub_index", "subdomain": "<user>"}),
    ("/about/", {"endpoint": "about"}),
    ("/api/<int:id>", {"endpoint": "api_item", "subdomain": "api", "methods": ["POST"]}),
    ("/api/<int:id>", {"endpoint": "user_item", "subdomain": "<user>"}),
    ("/shop/<name>", {"endpoint": "shop", "subdomain": "shop<int:n>"}),
    ("/live", {"endpoint": "live", "subdomain": "<user>", "websocket": True}),
]
_HOST_RULES: list[tuple[str, dict[str, Any]]] = [
    ("/", {"endpoint": "home", "host": "example.com"}),
    ("/", {"endpoint": "user", "host": "<user>.example.com"}),
    ("/x/<int:i>/", {"endpoint": "x", "host": "<user>.example.com"}),
    ("/p", {"endpoint": "port", "host": "example.com:8080", "methods": ["GET", "PUT"]}),
    ("/home", {"endpoint": "home", "host": "example.org"}),
]


def _both(host_matching: bool) -> tuple[Map, Any]:
    from werkzeug import routing

    table = _HOST_RULES if host_matching else _SUBDOMAIN_RULES
    ours = Map(
        [Rule(path, provide_automatic_options=False, **kw) for path, kw in table],
        host_matching=host_matching,
    )
    theirs = routing.Map(
        # A Werkzeug rule without methods takes any method.
        [routing.Rule(path, **{"methods": ["GET"], **kw}) for path, kw in table],
        host_matching=host_matching,
    )
    return ours, theirs


def _outcome(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except RequestRedirect as exc:
        return ("redirect", exc.new_url)
    except MethodNotAllowed as exc:
        return ("405", sorted(exc.valid_methods or ()))
    except NotFound:
        return "404"
    except LookupError:  # BuildError
        return "BuildError"


_BINDINGS = [
    # (host_matching, bind arguments)
    (False, {"server_name": "example.com", "query_args": "a=1"}),
    (False, {"server_name": "example.com", "subdomain": "bob", "script_name": "/app"}),
    (False, {"server_name": "Example.com:8000", "subdomain": "api", "url_scheme": "https"}),
    (False, {"server_name": "example.com", "subdomain": "shop12", "query_args": "a=1"}),
    (True, {"server_name": "example.com"}),
    (True, {"server_name": "bob.example.com", "url_scheme": "https", "query_args": {"q": "a b"}}),
    (True, {"server_name": "example.com:8080"}),
    (True, {"server_name": "other.com", "script_name": "/s"}),
]
_PATHS = ["/", "/about", "/about/", "/api/3", "/api/x", "/shop/hat", "/x/4", "/x/4/", "/p"]
_BUILDS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("index", {}, {}),
    ("index", {"page": 2}, {"force_external": True}),
    ("sub_index", {"user": "bob"}, {}),
    ("sub_index", {"user": "ann"}, {"url_scheme": "https"}),
    ("api_item", {"id": 3}, {}),
    ("api_item", {"id": 3}, {"method": "POST"}),
    ("user_item", {"id": 3, "user": "bob"}, {}),
    ("shop", {"n": 12, "name": "hat"}, {}),
    ("live", {"user": "bob"}, {}),
    ("home", {}, {}),
    ("home", {}, {"force_external": True}),
    ("user", {"user": "cy"}, {}),
    ("x", {"user": "bob", "i": 4}, {"append_unknown": False}),
    ("port", {}, {"method": "PUT"}),
    ("port", {}, {"method": "POST"}),
    ("missing", {}, {}),
]


@pytest.mark.parametrize(("host_matching", "bind"), _BINDINGS)
def test_the_adapter_answers_as_werkzeugs(host_matching: bool, bind: dict[str, Any]) -> None:
    ours, theirs = _both(host_matching)
    mine, werkzeugs = ours.bind(**bind), theirs.bind(**bind)
    for path in _PATHS:
        for method in ("GET", "POST", "PUT"):
            assert _outcome(mine.match, path, method) == _outcome(werkzeugs.match, path, method), (
                path,
                method,
            )
        assert mine.test(path) == werkzeugs.test(path), path
        assert sorted(mine.allowed_methods(path)) == sorted(werkzeugs.allowed_methods(path))
    endpoints = {kw["endpoint"] for _, kw in (_HOST_RULES if host_matching else _SUBDOMAIN_RULES)}
    for endpoint, values, options in _BUILDS:
        if endpoint in endpoints or endpoint == "missing":
            assert _outcome(mine.build, endpoint, values, **options) == _outcome(
                werkzeugs.build, endpoint, values, **options
            ), (endpoint, values, options)


class TestMapAdapter:
    def test_match_returns_the_endpoint_or_the_rule(self) -> None:
        rule = Rule("/u/<int:id>", endpoint="user", subdomain="<name>")
        adapter = Map([rule]).bind("example.com", subdomain="bob", path_info="/u/3")
        assert adapter.match() == ("user", {"name": "bob", "id": 3})
        assert adapter.match(return_rule=True) == (rule, {"name": "bob", "id": 3})
        assert adapter.match("/u/4", "get") == ("user", {"name": "bob", "id": 4})

    def test_bind_under_host_matching_refuses_a_subdomain(self) -> None:
        with pytest.raises(RuntimeError, match="host matching"):
            Map(host_matching=True).bind("example.com", subdomain="api")

    def test_websocket_binding_matches_websocket_rules(self) -> None:
        urls = make_map(Rule("/ws", endpoint="ws", websocket=True), Rule("/ws", endpoint="http"))
        assert urls.bind("example.com", url_scheme="wss").match("/ws") == ("ws", {})
        assert urls.bind("example.com").match("/ws") == ("http", {})
        assert urls.bind("example.com").match("/ws", websocket=True) == ("ws", {})

    def test_build_takes_a_multidict(self) -> None:
        from werkzeug.datastructures import MultiDict

        adapter = make_map(Rule("/s", endpoint="s")).bind("example.com")
        values = MultiDict([("tag", "a"), ("tag", "b"), ("q", "x")])
        assert adapter.build("s", values) == "/s?tag=a&tag=b&q=x"

    def test_build_prefers_the_default_method(self) -> None:
        urls = make_map(Rule("/post", endpoint="e", methods=["POST"]), Rule("/get", endpoint="e"))
        assert urls.bind("example.com").build("e") == "/get"
        assert urls.bind("example.com", default_method="POST").build("e") == "/post"
        assert urls.bind("example.com").build("e", method="POST") == "/post"

    def test_script_name_is_quoted(self) -> None:
        adapter = make_map(Rule("/a", endpoint="a")).bind("example.com", script_name="/my app")
        assert adapter.build("a") == "/my%20app/a"
        assert adapter.build("a", force_external=True) == "http://example.com/my%20app/a"

    def test_get_host(self) -> None:
        adapter = Map().bind("example.com", subdomain="api")
        assert adapter.get_host(None) == "api.example.com"
        assert adapter.get_host("") == "example.com"
        assert adapter.get_host("www") == "www.example.com"
        hosts = Map(host_matching=True).bind("example.com")
        assert (hosts.get_host(None), hosts.get_host("a.test")) == ("example.com", "a.test")


class TestScale:
    """Matching follows the tree: it never tries the rules one by one."""

    def counting_map(self, calls: list[str]) -> Map:
        class Counting(IntegerConverter):
            def to_python(self, value: str) -> Any:
                calls.append(value)
                return super().to_python(value)

        urls = Map()
        urls.converters["count"] = Counting
        return urls

    def test_shared_dynamic_segments_are_tried_once(self) -> None:
        calls: list[str] = []
        urls = self.counting_map(calls)
        for i in range(1000):
            urls.add(Rule(f"/shop/<count:shop_{i}>/item{i}/<count:item>", endpoint=f"e{i}"))
        rule, values = urls.match("/shop/7/item999/3", "GET")
        assert (rule.endpoint, values) == ("e999", {"shop_999": 7, "item": 3})
        assert len(calls) < 10
        calls.clear()
        with pytest.raises(NotFound):
            urls.match("/shop/7/item1000/3", "GET")
        assert len(calls) < 10

    def test_distinct_prefixes_cost_one_conversion(self) -> None:
        calls: list[str] = []
        urls = self.counting_map(calls)
        for i in range(1000):
            urls.add(Rule(f"/r{i}/<count:x>", endpoint=f"e{i}"))
            urls.add(Rule(f"/<count:y>/r{i}", endpoint=f"f{i}"))
        assert urls.match("/r999/5", "GET")[0].endpoint == "e999"
        assert urls.match("/5/r999", "GET")[0].endpoint == "f999"
        assert len(calls) <= 3


# -- Properties ---------------------------------------------------------------

_SEGMENT = st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=8)
_PATH = st.lists(st.text(st.characters(codec="utf-8"), max_size=6), min_size=1).map("/".join)
_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "int": st.integers(min_value=0, max_value=10**12),
    "string": _SEGMENT,
    "uuid": st.uuids(),
    "path": _PATH.filter(lambda p: p and not p.startswith("/")),
}
_WORD = st.text("abcxyz-_.~", min_size=1, max_size=5)


@st.composite
def _rule_specs(draw: st.DrawFn, shared_prefix: bool) -> list[tuple[str, dict[str, Any]]]:
    """(rule, example values) pairs; each rule has at most one path variable."""
    specs = []
    for i in range(draw(st.integers(1, 5))):
        kinds = draw(
            st.lists(st.sampled_from(["static", "int", "string", "uuid", "path"]), max_size=4)
        )
        if kinds.count("path") > 1:
            kinds = [kind for kind in kinds if kind != "path"] + ["path"]
        segments = ["api" if shared_prefix else f"r{i}"]
        values: dict[str, Any] = {}
        for index, kind in enumerate(kinds):
            if kind == "static":
                segments.append(draw(_WORD))
            else:
                segments.append(f"<{kind}:v{index}>")
                values[f"v{index}"] = draw(_VALUES[kind])
        if draw(st.booleans()):
            segments.append("")
        specs.append(("/" + "/".join(segments), values))
    return specs


@settings(max_examples=150, deadline=None)
@given(_rule_specs(shared_prefix=False))
def test_build_then_match_round_trips(specs: list[tuple[str, dict[str, Any]]]) -> None:
    urls = make_map(*(Rule(rule, endpoint=f"e{i}") for i, (rule, _) in enumerate(specs)))
    for i, (_, values) in enumerate(specs):
        url = urls.build(f"e{i}", values)
        rule, matched = urls.match(unquote(url), "GET")
        assert rule.endpoint == f"e{i}"
        assert matched == values


@settings(max_examples=100, deadline=None)
@given(_rule_specs(shared_prefix=True))
def test_built_urls_are_fixed_points_among_overlapping_rules(
    specs: list[tuple[str, dict[str, Any]]],
) -> None:
    urls = make_map(*(Rule(rule, endpoint=f"e{i}") for i, (rule, _) in enumerate(specs)))
    for i, (_, values) in enumerate(specs):
        url = urls.build(f"e{i}", values)
        rule, matched = urls.match(unquote(url), "GET")
        assert urls.build(rule.endpoint, matched) == url


@pytest.mark.parametrize(
    ("path", "method", "error"),
    [
        ("/nowhere", "GET", NotFound),
        ("/a", "POST", MethodNotAllowed),
        ("/b", "GET", RequestRedirect),
    ],
)
def test_a_raised_routing_error_leaves_no_reference_cycle(
    path: str, method: str, error: type[Exception]
) -> None:
    urls = Map()
    urls.add(Rule("/a", endpoint="a"))
    urls.add(Rule("/b/", endpoint="b"))
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            with pytest.raises(error):
                urls.match(path, method)
        assert gc.collect() == 0
    finally:
        gc.enable()


def _overlapping_rules() -> Map:
    urls = Map()
    for rule, methods, strict in [
        ("/users/<int:id>", ["GET"], True),
        ("/users/new", ["POST"], True),
        ("/users/<name>", ["GET", "PUT"], True),
        ("/users/me/", ["GET"], True),
        ("/users/7", ["POST"], True),
        ("/users/7/", ["GET"], False),  # GET /users/7 is this one, not /users/<int:id>
        ("/users/<int:id>/", ["DELETE"], False),
        ("/files/<path:rest>", ["GET"], True),
        ("/v<int:n>", ["GET"], True),
        ("/<name>", ["PUT"], True),
        ("/a/<int:x>/b", ["GET"], True),
        ("/a/b/<uuid:u>", ["GET"], True),
        ("/a/<float:f>", ["GET"], True),
    ]:
        urls.add(Rule(rule, endpoint=rule, methods=methods, strict_slashes=strict))
    return urls


_SEGMENTS = ["users", "new", "me", "7", "42", "007", "-1", "1.5", "", "files", "a", "b", "v7", "x"]


def test_the_tail_index_answers_as_the_walk_would() -> None:
    # find() answers "/static/prefix/<variable>" from an index when it can; the
    # tree walk alone must give the same rule, values or error for every path:
    # all paths of up to three of these segments, with every method.
    urls = _overlapping_rules()
    walk_only = _overlapping_rules()
    walk_only.find("/", "GET")  # builds the tree and the index...
    walk_only._tails = ({}, {})  # ...then leaves the walk alone
    hits_under_an_index = 0
    for length in (1, 2, 3):
        for segments in itertools.product(_SEGMENTS, repeat=length):
            path = "/" + "/".join(segments)
            for method in ("GET", "POST", "PUT", "DELETE", "HEAD"):
                indexed, walked = urls.find(path, method), walk_only.find(path, method)
                assert type(indexed) is type(walked), (path, method)
                if isinstance(walked, tuple):
                    assert indexed[0].rule == walked[0].rule, (path, method)  # type: ignore[index]
                    assert indexed[1] == walked[1], (path, method)  # type: ignore[index]
                    hits_under_an_index += segments[0] in ("users", "a")
                else:
                    assert vars(indexed) == vars(walked), (path, method)
    # Not /files (<path> spans segments), nor the root, where v<int:n> (text and a
    # variable) comes before <name>: the walk answers those.
    assert set(urls._tails[0]) == {"/users", "/a", "/a/b"}
    assert hits_under_an_index > 50


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))  # lone surrogates included: servers may pass them on
def test_any_path_gets_a_rule_or_an_http_error_and_find_agrees(path: str) -> None:
    class Odd(BaseConverter):
        def to_python(self, value: str) -> str:
            if len(value) % 2 == 0:
                raise ValidationError(value)
            return value

    urls = Map()
    urls.converters["odd"] = Odd
    rules = [
        Rule(rule, endpoint=rule)
        for rule in (
            "/",
            "/a/",
            "/a/<int:n>",
            "/a/<odd:o>/<path:rest>/x",
            "/<name>.<ext>",
            "/<path:p>/",
            "/b/<float(signed=True):f>/<uuid:u>",
        )
    ]
    for rule in rules:
        urls.add(rule)
    found = urls.find("/" + path, "GET")  # what the app calls: the error, not raised
    try:
        matched = urls.match("/" + path, "GET")
    except (NotFound, MethodNotAllowed, RequestRedirect) as exc:
        assert type(found) is type(exc)
        assert vars(found) == vars(exc)  # same methods allowed, same redirect target
    else:
        assert matched[0] in rules
        assert found == matched
