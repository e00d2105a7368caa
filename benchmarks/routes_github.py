"""Route tables for the routing scenarios and the router micro-benchmark.

``GITHUB_API`` is the GitHub v3 API as listed by the httprouter routing
benchmark (julienschmidt/go-http-routing-benchmark, ``github_test.go``): 203
routes, static and parametric, over five methods. Paths use a neutral syntax,
``{name}`` for a segment and ``{name:int}`` for an integer; :func:`to_syntax`
writes them the way each framework spells them.

``many_routes(500)`` is the synthetic table ``/route{i}/{id:int}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")

# (method, path) in the order the httprouter benchmark registers them.
_GITHUB: list[tuple[str, str]] = [
    # OAuth Authorizations
    ("GET", "/authorizations"),
    ("GET", "/authorizations/{id}"),
    ("POST", "/authorizations"),
    ("DELETE", "/authorizations/{id}"),
    ("GET", "/applications/{client_id}/tokens/{access_token}"),
    ("DELETE", "/applications/{client_id}/tokens"),
    ("DELETE", "/applications/{client_id}/tokens/{access_token}"),
    # Activity
    ("GET", "/events"),
    ("GET", "/repos/{owner}/{repo}/events"),
    ("GET", "/networks/{owner}/{repo}/events"),
    ("GET", "/orgs/{org}/events"),
    ("GET", "/users/{user}/received_events"),
    ("GET", "/users/{user}/received_events/public"),
    ("GET", "/users/{user}/events"),
    ("GET", "/users/{user}/events/public"),
    ("GET", "/users/{user}/events/orgs/{org}"),
    ("GET", "/feeds"),
    ("GET", "/notifications"),
    ("GET", "/repos/{owner}/{repo}/notifications"),
    ("PUT", "/notifications"),
    ("PUT", "/repos/{owner}/{repo}/notifications"),
    ("GET", "/notifications/threads/{id}"),
    ("GET", "/notifications/threads/{id}/subscription"),
    ("PUT", "/notifications/threads/{id}/subscription"),
    ("DELETE", "/notifications/threads/{id}/subscription"),
    ("GET", "/repos/{owner}/{repo}/stargazers"),
    ("GET", "/users/{user}/starred"),
    ("GET", "/user/starred"),
    ("GET", "/user/starred/{owner}/{repo}"),
    ("PUT", "/user/starred/{owner}/{repo}"),
    ("DELETE", "/user/starred/{owner}/{repo}"),
    ("GET", "/repos/{owner}/{repo}/subscribers"),
    ("GET", "/users/{user}/subscriptions"),
    ("GET", "/user/subscriptions"),
    ("GET", "/repos/{owner}/{repo}/subscription"),
    ("PUT", "/repos/{owner}/{repo}/subscription"),
    ("DELETE", "/repos/{owner}/{repo}/subscription"),
    ("GET", "/user/subscriptions/{owner}/{repo}"),
    ("PUT", "/user/subscriptions/{owner}/{repo}"),
    ("DELETE", "/user/subscriptions/{owner}/{repo}"),
    # Gists
    ("GET", "/users/{user}/gists"),
    ("GET", "/gists"),
    ("GET", "/gists/{id}"),
    ("POST", "/gists"),
    ("PUT", "/gists/{id}/star"),
    ("DELETE", "/gists/{id}/star"),
    ("GET", "/gists/{id}/star"),
    ("POST", "/gists/{id}/forks"),
    ("DELETE", "/gists/{id}"),
    # Git Data
    ("GET", "/repos/{owner}/{repo}/git/blobs/{sha}"),
    ("POST", "/repos/{owner}/{repo}/git/blobs"),
    ("GET", "/repos/{owner}/{repo}/git/commits/{sha}"),
    ("POST", "/repos/{owner}/{repo}/git/commits"),
    ("GET", "/repos/{owner}/{repo}/git/refs"),
    ("POST", "/repos/{owner}/{repo}/git/refs"),
    ("GET", "/repos/{owner}/{repo}/git/tags/{sha}"),
    ("POST", "/repos/{owner}/{repo}/git/tags"),
    ("GET", "/repos/{owner}/{repo}/git/trees/{sha}"),
    ("POST", "/repos/{owner}/{repo}/git/trees"),
    # Issues
    ("GET", "/issues"),
    ("GET", "/user/issues"),
    ("GET", "/orgs/{org}/issues"),
    ("GET", "/repos/{owner}/{repo}/issues"),
    ("GET", "/repos/{owner}/{repo}/issues/{number}"),
    ("POST", "/repos/{owner}/{repo}/issues"),
    ("GET", "/repos/{owner}/{repo}/assignees"),
    ("GET", "/repos/{owner}/{repo}/assignees/{assignee}"),
    ("GET", "/repos/{owner}/{repo}/issues/{number}/comments"),
    ("POST", "/repos/{owner}/{repo}/issues/{number}/comments"),
    ("GET", "/repos/{owner}/{repo}/issues/{number}/events"),
    ("GET", "/repos/{owner}/{repo}/labels"),
    ("GET", "/repos/{owner}/{repo}/labels/{name}"),
    ("POST", "/repos/{owner}/{repo}/labels"),
    ("DELETE", "/repos/{owner}/{repo}/labels/{name}"),
    ("GET", "/repos/{owner}/{repo}/issues/{number}/labels"),
    ("POST", "/repos/{owner}/{repo}/issues/{number}/labels"),
    ("DELETE", "/repos/{owner}/{repo}/issues/{number}/labels/{name}"),
    ("PUT", "/repos/{owner}/{repo}/issues/{number}/labels"),
    ("DELETE", "/repos/{owner}/{repo}/issues/{number}/labels"),
    ("GET", "/repos/{owner}/{repo}/milestones/{number}/labels"),
    ("GET", "/repos/{owner}/{repo}/milestones"),
    ("GET", "/repos/{owner}/{repo}/milestones/{number}"),
    ("POST", "/repos/{owner}/{repo}/milestones"),
    ("DELETE", "/repos/{owner}/{repo}/milestones/{number}"),
    # Miscellaneous
    ("GET", "/emojis"),
    ("GET", "/gitignore/templates"),
    ("GET", "/gitignore/templates/{name}"),
    ("POST", "/markdown"),
    ("POST", "/markdown/raw"),
    ("GET", "/meta"),
    ("GET", "/rate_limit"),
    # Organizations
    ("GET", "/users/{user}/orgs"),
    ("GET", "/user/orgs"),
    ("GET", "/orgs/{org}"),
    ("GET", "/orgs/{org}/members"),
    ("GET", "/orgs/{org}/members/{user}"),
    ("DELETE", "/orgs/{org}/members/{user}"),
    ("GET", "/orgs/{org}/public_members"),
    ("GET", "/orgs/{org}/public_members/{user}"),
    ("PUT", "/orgs/{org}/public_members/{user}"),
    ("DELETE", "/orgs/{org}/public_members/{user}"),
    ("GET", "/orgs/{org}/teams"),
    ("GET", "/teams/{id}"),
    ("POST", "/orgs/{org}/teams"),
    ("DELETE", "/teams/{id}"),
    ("GET", "/teams/{id}/members"),
    ("GET", "/teams/{id}/members/{user}"),
    ("PUT", "/teams/{id}/members/{user}"),
    ("DELETE", "/teams/{id}/members/{user}"),
    ("GET", "/teams/{id}/repos"),
    ("GET", "/teams/{id}/repos/{owner}/{repo}"),
    ("PUT", "/teams/{id}/repos/{owner}/{repo}"),
    ("DELETE", "/teams/{id}/repos/{owner}/{repo}"),
    ("GET", "/user/teams"),
    # Pull Requests
    ("GET", "/repos/{owner}/{repo}/pulls"),
    ("GET", "/repos/{owner}/{repo}/pulls/{number}"),
    ("POST", "/repos/{owner}/{repo}/pulls"),
    ("GET", "/repos/{owner}/{repo}/pulls/{number}/commits"),
    ("GET", "/repos/{owner}/{repo}/pulls/{number}/files"),
    ("GET", "/repos/{owner}/{repo}/pulls/{number}/merge"),
    ("PUT", "/repos/{owner}/{repo}/pulls/{number}/merge"),
    ("GET", "/repos/{owner}/{repo}/pulls/{number}/comments"),
    ("PUT", "/repos/{owner}/{repo}/pulls/{number}/comments"),
    # Repositories
    ("GET", "/user/repos"),
    ("GET", "/users/{user}/repos"),
    ("GET", "/orgs/{org}/repos"),
    ("GET", "/repositories"),
    ("POST", "/user/repos"),
    ("POST", "/orgs/{org}/repos"),
    ("GET", "/repos/{owner}/{repo}"),
    ("GET", "/repos/{owner}/{repo}/contributors"),
    ("GET", "/repos/{owner}/{repo}/languages"),
    ("GET", "/repos/{owner}/{repo}/teams"),
    ("GET", "/repos/{owner}/{repo}/tags"),
    ("GET", "/repos/{owner}/{repo}/branches"),
    ("GET", "/repos/{owner}/{repo}/branches/{branch}"),
    ("DELETE", "/repos/{owner}/{repo}"),
    ("GET", "/repos/{owner}/{repo}/collaborators"),
    ("GET", "/repos/{owner}/{repo}/collaborators/{user}"),
    ("PUT", "/repos/{owner}/{repo}/collaborators/{user}"),
    ("DELETE", "/repos/{owner}/{repo}/collaborators/{user}"),
    ("GET", "/repos/{owner}/{repo}/comments"),
    ("GET", "/repos/{owner}/{repo}/commits/{sha}/comments"),
    ("POST", "/repos/{owner}/{repo}/commits/{sha}/comments"),
    ("GET", "/repos/{owner}/{repo}/comments/{id}"),
    ("DELETE", "/repos/{owner}/{repo}/comments/{id}"),
    ("GET", "/repos/{owner}/{repo}/commits"),
    ("GET", "/repos/{owner}/{repo}/commits/{sha}"),
    ("GET", "/repos/{owner}/{repo}/readme"),
    ("GET", "/repos/{owner}/{repo}/keys"),
    ("GET", "/repos/{owner}/{repo}/keys/{id}"),
    ("POST", "/repos/{owner}/{repo}/keys"),
    ("DELETE", "/repos/{owner}/{repo}/keys/{id}"),
    ("GET", "/repos/{owner}/{repo}/downloads"),
    ("GET", "/repos/{owner}/{repo}/downloads/{id}"),
    ("DELETE", "/repos/{owner}/{repo}/downloads/{id}"),
    ("GET", "/repos/{owner}/{repo}/forks"),
    ("POST", "/repos/{owner}/{repo}/forks"),
    ("GET", "/repos/{owner}/{repo}/hooks"),
    ("GET", "/repos/{owner}/{repo}/hooks/{id}"),
    ("POST", "/repos/{owner}/{repo}/hooks"),
    ("POST", "/repos/{owner}/{repo}/hooks/{id}/tests"),
    ("DELETE", "/repos/{owner}/{repo}/hooks/{id}"),
    ("POST", "/repos/{owner}/{repo}/merges"),
    ("GET", "/repos/{owner}/{repo}/releases"),
    ("GET", "/repos/{owner}/{repo}/releases/{id}"),
    ("POST", "/repos/{owner}/{repo}/releases"),
    ("DELETE", "/repos/{owner}/{repo}/releases/{id}"),
    ("GET", "/repos/{owner}/{repo}/releases/{id}/assets"),
    ("GET", "/repos/{owner}/{repo}/stats/contributors"),
    ("GET", "/repos/{owner}/{repo}/stats/commit_activity"),
    ("GET", "/repos/{owner}/{repo}/stats/code_frequency"),
    ("GET", "/repos/{owner}/{repo}/stats/participation"),
    ("GET", "/repos/{owner}/{repo}/stats/punch_card"),
    ("GET", "/repos/{owner}/{repo}/statuses/{ref}"),
    ("POST", "/repos/{owner}/{repo}/statuses/{ref}"),
    # Search
    ("GET", "/search/repositories"),
    ("GET", "/search/code"),
    ("GET", "/search/issues"),
    ("GET", "/search/users"),
    ("GET", "/legacy/issues/search/{owner}/{repository}/{state}/{keyword}"),
    ("GET", "/legacy/repos/search/{keyword}"),
    ("GET", "/legacy/user/search/{keyword}"),
    ("GET", "/legacy/user/email/{email}"),
    # Users
    ("GET", "/users/{user}"),
    ("GET", "/user"),
    ("GET", "/users"),
    ("GET", "/user/emails"),
    ("POST", "/user/emails"),
    ("DELETE", "/user/emails"),
    ("GET", "/users/{user}/followers"),
    ("GET", "/user/followers"),
    ("GET", "/users/{user}/following"),
    ("GET", "/user/following"),
    ("GET", "/user/following/{user}"),
    ("GET", "/users/{user}/following/{target_user}"),
    ("PUT", "/user/following/{user}"),
    ("DELETE", "/user/following/{user}"),
    ("GET", "/users/{user}/keys"),
    ("GET", "/user/keys"),
    ("GET", "/user/keys/{id}"),
    ("POST", "/user/keys"),
    ("DELETE", "/user/keys/{id}"),
]


@dataclass(frozen=True)
class RouteSpec:
    """One route: ``method`` and ``path`` in the neutral ``{name}``/``{name:int}`` syntax.

    ``index`` is its position in its table; views answer ``"<index> params:..."``
    so a response also proves which route matched.
    """

    index: int
    method: str
    path: str

    @property
    def params(self) -> list[tuple[str, str]]:
        """``(name, kind)`` of each parameter, kind ``"str"`` or ``"int"``."""
        return [(m[1], m[2] or "str") for m in _PARAM.finditer(self.path)]


GITHUB_API: list[RouteSpec] = [RouteSpec(i, m, p) for i, (m, p) in enumerate(_GITHUB)]


def many_routes(count: int = 500) -> list[RouteSpec]:
    """``GET /route{i}/{id:int}`` for ``i`` in ``range(count)``."""
    return [RouteSpec(i, "GET", f"/route{i}/{{id:int}}") for i in range(count)]


def to_syntax(path: str, style: str) -> str:
    """``path`` in a framework's syntax.

    ``flask`` (Flask, Quart, microasgi, Werkzeug): ``<name>``, ``<int:name>``;
    ``starlette`` (Starlette, FastAPI, Falcon): ``{name}``, ``{name:int}``;
    ``litestar``: ``{name:str}``, ``{name:int}``; ``blacksheep``: ``{name}``, ``{int:name}``.
    """

    def one(match: re.Match[str]) -> str:
        name, kind = match[1], match[2] or "str"
        if style == "flask":
            return f"<{name}>" if kind == "str" else f"<{kind}:{name}>"
        if style == "starlette":
            return f"{{{name}}}" if kind == "str" else f"{{{name}:{kind}}}"
        if style == "litestar":
            return f"{{{name}:{kind}}}"
        if style == "blacksheep":
            return f"{{{name}}}" if kind == "str" else f"{{{kind}:{name}}}"
        raise ValueError(f"unknown route syntax {style!r}")

    return _PARAM.sub(one, path)


def answer(route: RouteSpec, params: Mapping[str, object]) -> str:
    """What the view of ``route`` answers for ``params``."""
    from .apps._common import params_text

    return f"{route.index} {params_text(params)}"


def grouped_by_path(routes: list[RouteSpec]) -> dict[str, list[RouteSpec]]:
    """Routes sharing a path, for frameworks that take one handler object per path (Falcon)."""
    groups: dict[str, list[RouteSpec]] = {}
    for route in routes:
        groups.setdefault(route.path, []).append(route)
    return groups


# The requests of the routing scenarios: (path, expected status, expected body or None).
GITHUB_LAST_STATIC = "/user/keys"  # GET /user/keys: the table's last static route
GITHUB_LAST_PARAM = "/user/keys/42"  # GET /user/keys/{id}: its last parametric one
GITHUB_MISS = "/repos/julienschmidt/httprouter/no-such-thing"
# A hit as deep as the miss, under the same two variables: what the 404 compares with.
GITHUB_DEEP = "/repos/julienschmidt/httprouter/issues"


def reference_match(
    routes: list[RouteSpec], method: str, path: str
) -> tuple[RouteSpec, dict[str, object]] | None:
    """The first route of ``routes`` matching ``path`` and its parameters, in plain Python:
    the answer every router must agree with."""
    for route in routes:
        if route.method != method:
            continue
        pattern = _PARAM.sub(
            lambda m: f"(?P<{m[1]}>[0-9]+)" if m[2] == "int" else f"(?P<{m[1]}>[^/]+)",
            route.path,
        )
        found = re.fullmatch(pattern, path)
        if found:
            params: dict[str, object] = {
                name: int(found[name]) if kind == "int" else found[name]
                for name, kind in route.params
            }
            return route, params
    return None


def expected_body(routes: list[RouteSpec], method: str, path: str) -> str | None:
    """The body ``path`` must answer (``None``: a 404)."""
    found = reference_match(routes, method, path)
    return None if found is None else answer(*found)
