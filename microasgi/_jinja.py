"""The Jinja2 classes behind :mod:`microasgi.templating`.

Kept apart so that importing microasgi does not import Jinja2: this module
is imported when an app first needs its environment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

if TYPE_CHECKING:
    from .sansio.app import App

_Source = tuple[str, "str | None", "Callable[[], bool] | None"]

#: Template file -> the name it was loaded under, so that an error's traceback
#: (which knows only the file) can name the template. Bounded by the files on disk.
template_names: dict[str, str] = {}


class Environment(jinja2.Environment):
    """An app's environment: templates come from the app's and its blueprints' folders.

    ``auto_reload`` follows ``TEMPLATES_AUTO_RELOAD`` (or ``DEBUG`` when that is
    ``None``) as they are *now*, unless set explicitly (``jinja_options`` or
    assignment).
    """

    def __init__(self, app: App, **options: Any) -> None:
        self.app = app
        explicit_reload: bool | None = options.pop("auto_reload", None)
        if "loader" not in options:
            options["loader"] = DispatchingJinjaLoader(app)
        super().__init__(**options)
        # Jinja's __init__ stored its own default through the setter; only an
        # explicit choice pins the value, else the config decides on each load.
        # (A decorator like @app.template_filter creates the environment before
        # the config is usually loaded, so reading the config once is too early.)
        self._auto_reload = explicit_reload

    @property
    def auto_reload(self) -> bool:
        """Whether templates are checked for changes on disk on each load."""
        if self._auto_reload is not None:
            return self._auto_reload
        config_value = self.app.config["TEMPLATES_AUTO_RELOAD"]
        return self.app.debug if config_value is None else bool(config_value)

    @auto_reload.setter
    def auto_reload(self, value: bool | None) -> None:
        self._auto_reload = value


class DispatchingJinjaLoader(jinja2.BaseLoader):
    """Looks in the app's template folder, then in each blueprint's, in registration order."""

    def __init__(self, app: App) -> None:
        self.app = app

    def get_source(self, environment: jinja2.Environment, template: str) -> _Source:
        if self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
            return self._get_source_explained(environment, template)
        for _owner, loader in self._loaders():
            try:
                source = loader.get_source(environment, template)
            except jinja2.TemplateNotFound:
                continue
            return _remember(template, source)
        raise jinja2.TemplateNotFound(template)

    def _get_source_explained(self, environment: jinja2.Environment, template: str) -> _Source:
        # Every loader is tried, so that a template shadowed by another is reported too.
        attempts: list[tuple[Any, jinja2.BaseLoader, str | None]] = []
        found: _Source | None = None
        for owner, loader in self._loaders():
            try:
                source = loader.get_source(environment, template)
            except jinja2.TemplateNotFound:
                attempts.append((owner, loader, None))
                continue
            attempts.append((owner, loader, source[1] or "<no filename>"))
            if found is None:
                found = source
        self.app.logger.info(_explain(self.app, template, attempts))
        if found is None:
            raise jinja2.TemplateNotFound(template)
        return _remember(template, found)

    def _loaders(self) -> Iterator[tuple[Any, jinja2.BaseLoader]]:
        app = self.app
        loader = app.jinja_loader
        if loader is not None:
            yield app, loader
        seen: set[int] = set()
        # A blueprint registered twice (under two names) has one folder.
        for blueprint in list(app.blueprints.values()):
            if id(blueprint) in seen:
                continue
            seen.add(id(blueprint))
            loader = blueprint.jinja_loader
            if loader is not None:
                yield blueprint, loader

    def list_templates(self) -> list[str]:
        names: set[str] = set()
        for _owner, loader in self._loaders():
            names.update(loader.list_templates())
        return sorted(names)


def _remember(template: str, source: _Source) -> _Source:
    filename = source[1]
    if filename is not None:
        template_names[filename] = template
    return source


def _explain(
    app: App, template: str, attempts: list[tuple[Any, jinja2.BaseLoader, str | None]]
) -> str:
    lines = [f"Locating template {template!r}:"]
    for number, (owner, loader, filename) in enumerate(attempts, 1):
        kind = "application" if owner is app else "blueprint"
        lines.append(f"  {number}: trying loader of {kind} {owner.name!r} ({owner.import_name})")
        lines.append(f"     class: {type(loader).__module__}.{type(loader).__qualname__}")
        searchpath = getattr(loader, "searchpath", None)
        if searchpath is not None:
            lines.append(f"     searchpath: {searchpath!r}")
        lines.append(f"     -> found ({filename!r})" if filename else "     -> no match")
    total = sum(1 for *_rest, filename in attempts if filename)
    if not attempts:
        lines.append("Error: no loader to try: the app and its blueprints have no template_folder.")
    elif total == 0:
        lines.append("Error: the template could not be found.")
    elif total > 1:
        lines.append(
            "Warning: several loaders have this template; the first one wins. Put"
            " blueprint templates in a subfolder named after the blueprint to avoid this."
        )
    return "\n".join(lines)


def htmlsafe_json(text: str) -> Markup:
    """JSON text made safe inside ``<script>`` and HTML attributes, marked safe."""
    return Markup(
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
    )


def make_tojson(app: App) -> Callable[..., Markup]:
    """The ``tojson`` filter: ``app.json.dumps`` (looked up on each call), HTML-safe."""

    def tojson(value: Any, indent: int | None = None) -> Markup:
        text = app.json.dumps(value) if indent is None else app.json.dumps(value, indent=indent)
        return htmlsafe_json(text)

    return tojson
