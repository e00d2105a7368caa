"""Blueprints: a group of views, hooks, templates and static files, registered at a prefix.

A blueprint records what is set up on it and replays that on the app when it is
registered (once per registration name, so one blueprint can be registered
twice with ``name=``). Registered, it becomes a node of the app's dispatch
tree at its URL prefix:

- its routes join the app's one route tree (so matching stays flat however
  many blueprints there are), with endpoints named ``blueprint.view``
  (``parent.child.view`` when nested);
- its hooks and error handlers apply only to requests routed beneath it,
  including 404 and 405 answers for URLs under its prefix;
- its template folder joins the app's template search path, and its static
  folder is served at ``<prefix>/<static_url_path>``.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..typing import RouteCallable
from .scaffold import F, Scaffold, registering, setupmethod

if TYPE_CHECKING:
    from .app import App

DeferredSetupFunction = Callable[["BlueprintSetupState"], None]

_sentinel: Any = object()


def check_blueprint(blueprint: object) -> None:
    """Refuse real Flask's ``Blueprint`` (code half-ported from Flask) with a ``TypeError``
    that names the import to change."""
    if isinstance(blueprint, Blueprint):
        return
    flask_class = next(
        (cls for cls in type(blueprint).__mro__ if cls.__module__.partition(".")[0] == "flask"),
        None,
    )
    if flask_class is not None:
        raise TypeError(
            f"register_blueprint() got a Flask blueprint"
            f" ({getattr(blueprint, 'name', '?')!r}, a {flask_class.__module__}."
            f"{flask_class.__qualname__}); a microasgi app needs microasgi's Blueprint."
            " Where the blueprint is made, change `from flask import Blueprint` to"
            " `from microasgi import Blueprint`; for code you cannot change, make"
            " `import flask` mean microasgi: `import microasgi.as_flask` first thing in the"
            " app (see docs/migrating.md)."
        )


class BlueprintSetupState:
    """How one registration of a blueprint is applied to the app (prefix, subdomain, name,
    defaults)."""

    def __init__(
        self,
        blueprint: Blueprint,
        app: App,
        options: dict[str, Any],
        first_registration: bool,
    ) -> None:
        self.app = app
        self.blueprint = blueprint
        self.options = options
        self.first_registration = first_registration
        url_prefix = options.get("url_prefix")
        self.url_prefix: str | None = url_prefix if url_prefix is not None else blueprint.url_prefix
        subdomain = options.get("subdomain")
        #: The subdomain of the blueprint's rules (those that give none of their own).
        self.subdomain: str | None = subdomain if subdomain is not None else blueprint.subdomain
        self.name: str = options.get("name", blueprint.name)
        self.name_prefix: str = options.get("name_prefix", "")
        self.url_defaults = dict(blueprint.url_values_defaults)
        self.url_defaults.update(options.get("url_defaults") or {})

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: RouteCallable | None = None,
        **options: Any,
    ) -> None:
        """Register a rule on the app, prefixed, on the blueprint's subdomain, and with the
        blueprint's endpoint name."""
        options.setdefault("subdomain", self.subdomain)
        if self.url_prefix is not None:
            rule = (
                "/".join((self.url_prefix.rstrip("/"), rule.lstrip("/")))
                if rule
                else self.url_prefix
            )
        if endpoint is None:
            if view_func is None:
                raise TypeError("add_url_rule() needs an endpoint or a view_func.")
            endpoint = view_func.__name__
        defaults = self.url_defaults
        if "defaults" in options:
            defaults = {**defaults, **options.pop("defaults")}
        self.app.add_url_rule(
            rule,
            f"{self.name_prefix}.{self.name}.{endpoint}".lstrip("."),
            view_func,
            defaults=defaults or None,
            **options,
        )


class Blueprint(Scaffold):
    """A group of routes and hooks registered on an app at a prefix.

    ::

        bp = Blueprint("admin", __name__, url_prefix="/admin")

        @bp.get("/")
        async def dashboard():
            return "admin home"

        app.register_blueprint(bp)        # GET /admin/ -> endpoint "admin.dashboard"

    ``subdomain=`` (here or at :meth:`App.register_blueprint`) puts its routes
    on that subdomain of ``SERVER_NAME``, as Flask's (see ``subdomain_matching``).
    """

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, Any] | None = None,
        root_path: str | None = None,
        cli_group: str | None = _sentinel,
    ) -> None:
        super().__init__(
            import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        if not name:
            raise ValueError("'name' may not be empty.")
        if "." in name:
            raise ValueError("'name' may not contain a dot '.' character.")
        self.name = name
        self.url_prefix = url_prefix
        self.subdomain = subdomain
        self.url_values_defaults = url_defaults or {}
        self.cli_group = cli_group
        self.deferred_functions: list[DeferredSetupFunction] = []
        self._blueprints: list[tuple[Blueprint, dict[str, Any]]] = []
        self._got_registered_once = False

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_registered_once:
            raise RuntimeError(
                f"The setup method '{f_name}' can no longer be called on the blueprint"
                f" '{self.name}'. It has already been registered at least once, any"
                " changes will not be applied consistently. Make sure all imports,"
                " decorators, functions, etc. needed to set up the blueprint are done"
                " before registering it."
            )

    @setupmethod
    def record(self, func: DeferredSetupFunction) -> None:
        """Call ``func(state)`` each time the blueprint is registered."""
        self.deferred_functions.append(func)

    @setupmethod
    def record_once(self, func: DeferredSetupFunction) -> None:
        """Call ``func(state)`` on the first registration only."""

        def wrapper(state: BlueprintSetupState) -> None:
            if state.first_registration:
                func(state)

        self.record(wrapper)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Nest ``blueprint`` in this one: its endpoints become ``this.child.view``."""
        check_blueprint(blueprint)
        if blueprint is self:
            raise ValueError("Cannot register a blueprint on itself.")
        self._blueprints.append((blueprint, options))

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Record a rule, added to the app (prefixed) when the blueprint is registered."""
        if endpoint and "." in endpoint:
            raise ValueError("'endpoint' may not contain a dot '.' character.")
        if view_func is not None and "." in getattr(view_func, "__name__", ""):
            raise ValueError("'view_func' name may not contain a dot '.' character.")
        if provide_automatic_options is not None:
            options["provide_automatic_options"] = provide_automatic_options
        self.record(lambda state: state.add_url_rule(rule, endpoint, view_func, **options))

    def register(self, app: App, options: dict[str, Any]) -> None:
        """Apply the blueprint to ``app``; called by :meth:`App.register_blueprint`."""
        name_prefix = options.get("name_prefix", "")
        self_name = options.get("name", self.name)
        name = f"{name_prefix}.{self_name}".lstrip(".")
        if name in app.blueprints:
            existing = "this" if app.blueprints[name] is self else "a different"
            raise ValueError(
                f"The name '{self_name}' is already registered for {existing} blueprint."
                " Use 'name=' to provide a unique name."
            )
        first_registration = not any(bp is self for bp in app.blueprints.values())
        app.blueprints[name] = self
        self._got_registered_once = True
        state = BlueprintSetupState(self, app, options, first_registration)
        app._blueprint_prefixes[name] = state.url_prefix

        if self.has_static_folder:
            state.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                view_func=self.send_static_file,
                endpoint="static",
            )
        self._merge_into(app, name)
        for deferred in self.deferred_functions:
            deferred(state)
        self._register_cli(app, name, options)

        for child, child_options in self._blueprints:
            child_options = dict(child_options)
            # A child's subdomain goes below its parent's: "api" in "parent" is "api.parent".
            child_subdomain = child_options.get("subdomain")
            if child_subdomain is None:
                child_subdomain = child.subdomain
            if child_subdomain is not None and state.subdomain is not None:
                child_options["subdomain"] = f"{child_subdomain}.{state.subdomain}"
            else:
                child_options["subdomain"] = (
                    child_subdomain if child_subdomain is not None else state.subdomain
                )
            child_prefix = child_options.get("url_prefix", child.url_prefix)
            if state.url_prefix is not None and child_prefix is not None:
                child_options["url_prefix"] = (
                    state.url_prefix.rstrip("/") + "/" + child_prefix.lstrip("/")
                )
            elif child_prefix is not None:
                child_options["url_prefix"] = child_prefix
            elif state.url_prefix is not None:
                child_options["url_prefix"] = state.url_prefix
            child_options["name_prefix"] = name
            child.register(app, child_options)

    def _merge_into(self, app: App, name: str) -> None:
        """Copy this blueprint's hooks and handlers to the app, scoped by ``name``."""
        for scope, spec in self.error_handler_spec.items():
            key = name if scope is None else f"{name}.{scope}"
            app.error_handler_spec[key] = defaultdict(
                dict, {code: dict(handlers) for code, handlers in spec.items()}
            )
        hook_tables: tuple[tuple[dict[Any, list[Any]], dict[Any, list[Any]]], ...] = (
            (self.before_request_funcs, app.before_request_funcs),
            (self.after_request_funcs, app.after_request_funcs),
            (self.teardown_request_funcs, app.teardown_request_funcs),
            (self.before_websocket_funcs, app.before_websocket_funcs),
            (self.after_websocket_funcs, app.after_websocket_funcs),
            (self.url_default_functions, app.url_default_functions),
            (self.url_value_preprocessors, app.url_value_preprocessors),
            (self.template_context_processors, app.template_context_processors),
        )
        for source, target in hook_tables:
            for scope, funcs in source.items():
                key = name if scope is None else f"{name}.{scope}"
                target[key].extend(funcs)

    def _register_cli(self, app: App, name: str, options: dict[str, Any]) -> None:
        if self._cli is None or not self._cli.commands:
            return
        cli_group = options.get("cli_group", self.cli_group)
        if cli_group is None:
            app.cli.commands.update(self._cli.commands)
        else:
            self._cli.name = name if cli_group is _sentinel else cli_group
            app.cli.add_command(self._cli)

    # -- hooks on the whole app, registered from a blueprint -------------------------

    def _on_app(self, attribute: str, f: Any) -> None:
        self.record_once(lambda state: getattr(state.app, attribute)[None].append(f))

    @setupmethod
    def before_app_request(self, f: F) -> F:
        """``before_request`` for every request of the app, not only this blueprint's."""
        self._on_app("before_request_funcs", f)
        return f

    @setupmethod
    def after_app_request(self, f: F) -> F:
        """``after_request`` for every request of the app."""
        self._on_app("after_request_funcs", f)
        return f

    @setupmethod
    def teardown_app_request(self, f: F) -> F:
        """``teardown_request`` for every request of the app."""
        self._on_app("teardown_request_funcs", f)
        return f

    @setupmethod
    def app_context_processor(self, f: F) -> F:
        """A context processor for every template of the app."""
        self._on_app("template_context_processors", f)
        return f

    @setupmethod
    def app_url_value_preprocessor(self, f: F) -> F:
        """A URL value preprocessor for every request of the app."""
        self._on_app("url_value_preprocessors", f)
        return f

    @setupmethod
    def app_url_defaults(self, f: F) -> F:
        """A URL defaults function for every URL the app builds."""
        self._on_app("url_default_functions", f)
        return f

    @setupmethod
    def app_errorhandler(self, code_or_exception: type[BaseException] | int) -> Callable[[F], F]:
        """An error handler for the whole app."""

        def decorator(f: F) -> F:
            self.record_once(lambda state: state.app.register_error_handler(code_or_exception, f))
            return f

        return decorator

    @setupmethod
    def app_template_filter(self, name: str | None = None) -> Callable[[F], F]:
        """A template filter for the whole app."""
        return registering(self.add_app_template_filter, name)

    @setupmethod
    def add_app_template_filter(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register ``f`` as an app-wide template filter once the blueprint is registered."""
        self.record_once(lambda state: state.app.add_template_filter(f, name=name))

    @setupmethod
    def app_template_test(self, name: str | None = None) -> Callable[[F], F]:
        """A template test for the whole app."""
        return registering(self.add_app_template_test, name)

    @setupmethod
    def add_app_template_test(self, f: Callable[..., bool], name: str | None = None) -> None:
        """Register ``f`` as an app-wide template test once the blueprint is registered."""
        self.record_once(lambda state: state.app.add_template_test(f, name=name))

    @setupmethod
    def app_template_global(self, name: str | None = None) -> Callable[[F], F]:
        """A template global for the whole app."""
        return registering(self.add_app_template_global, name)

    @setupmethod
    def add_app_template_global(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register ``f`` as an app-wide template global once the blueprint is registered."""
        self.record_once(lambda state: state.app.add_template_global(f, name=name))


def blueprint_lineage(name: str) -> tuple[str, ...]:
    """``"a.b"`` -> ``("a.b", "a")``: a blueprint and its parents, innermost first."""
    parts = name.split(".")
    return tuple(".".join(parts[:i]) for i in range(len(parts), 0, -1))


def blueprint_chain(endpoint: str | None) -> tuple[str, ...]:
    """``"a.b.view"`` -> ``("a.b", "a")``: an endpoint's blueprints, innermost first."""
    if endpoint is None or "." not in endpoint:
        return ()
    return blueprint_lineage(endpoint.rpartition(".")[0])
