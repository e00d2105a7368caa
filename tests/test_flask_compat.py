"""The opt-in that makes ``import flask`` mean microasgi (microasgi.flask_compat, .as_flask).

Most tests turn it on inside this process with the real Flask (a test dependency,
imported by other tests) hidden for the test's length; the ones about a fresh
process (what importing the opt-in imports, the pytest plugin) run a child Python.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import microasgi
import microasgi.ctx
import microasgi.globals
import microasgi.json.provider
import microasgi.views
from microasgi.flask_compat import install_as_flask


def _flask_modules() -> dict[str, ModuleType | None]:
    return {
        name: module
        for name, module in sys.modules.items()
        if name == "flask" or name.startswith("flask.")
    }


@pytest.fixture
def no_flask() -> Iterator[None]:
    """No ``flask`` module imported, and no opt-in; both as they were afterwards."""
    saved_modules = _flask_modules()
    saved_finders = list(sys.meta_path)
    for name in saved_modules:
        del sys.modules[name]
    try:
        yield
    finally:
        for name in _flask_modules():
            del sys.modules[name]
        sys.modules.update(saved_modules)
        sys.meta_path[:] = saved_finders


@pytest.fixture
def as_flask(no_flask: None) -> None:
    """``import flask`` means microasgi for this test."""
    install_as_flask()


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on ``sys.path`` for modules written as a Flask extension would be."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if (tmp_path / f"{name}.py").exists():
            del sys.modules[name]


def _write_module(folder: Path, name: str, source: str) -> ModuleType:
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    importlib.invalidate_caches()
    return importlib.import_module(name)


def test_flask_is_microasgi(as_flask: None) -> None:
    import flask

    assert flask is microasgi
    assert flask.Flask is microasgi.MicroASGI


@pytest.mark.parametrize(
    "name",
    [
        "globals",
        "ctx",
        "json",
        "json.provider",
        "views",
        "wrappers",
        "sessions",
        "templating",
        "config",
        "blueprints",
        "typing",
        "sansio.app",
        "sansio.scaffold",
    ],
)
def test_flask_submodules_are_microasgi_modules_not_copies(as_flask: None, name: str) -> None:
    aliased = importlib.import_module(f"flask.{name}")

    assert aliased is importlib.import_module(f"microasgi.{name}")
    assert sys.modules[f"flask.{name}"] is aliased
    assert aliased.__name__ == f"microasgi.{name}"
    # The module still describes itself: the alias does not overwrite its spec.
    assert aliased.__spec__ is not None
    assert aliased.__spec__.name == f"microasgi.{name}"


def test_from_imports_give_microasgi_objects(as_flask: None) -> None:
    from flask import current_app, request
    from flask.globals import _cv_app
    from flask.json.provider import DefaultJSONProvider
    from flask.views import MethodView
    from flask.wrappers import Request, Response

    assert request is microasgi.request
    assert current_app is microasgi.current_app
    assert _cv_app is microasgi.globals._cv_app
    assert DefaultJSONProvider is microasgi.json.provider.DefaultJSONProvider
    assert MethodView is microasgi.views.MethodView
    assert (Request, Response) == (microasgi.Request, microasgi.Response)


def test_a_monkeypatch_through_flask_is_seen_by_microasgi(
    as_flask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flask.ctx

    def patched(*args: object, **kwargs: object) -> str:
        return "patched"

    monkeypatch.setattr(flask.ctx, "url_for", patched)

    assert microasgi.ctx.url_for is patched


def test_third_party_code_runs_inside_a_microasgi_request(
    as_flask: None, third_party: Path
) -> None:
    extension = _write_module(
        third_party,
        "flask_shout",
        """
        import flask
        from flask import current_app, request
        from flask.globals import _cv_app


        class Shout:
            def __init__(self, app=None):
                if app is not None:
                    self.init_app(app)

            def init_app(self, app):
                assert isinstance(app, flask.Flask)
                app.extensions["shout"] = self
                app.after_request(self.add_header)

            def add_header(self, response):
                assert _cv_app.get(None) is not None
                response.headers["X-Shout"] = current_app.name + ":" + request.args["word"].upper()
                return response
        """,
    )
    app = microasgi.MicroASGI("shouting")
    extension.Shout(app)

    @app.get("/")
    def index() -> str:
        return "quiet"

    response = app.test_client().get("/?word=hello")

    assert response.status_code == 200
    assert response.headers["X-Shout"] == "shouting:HELLO"
    assert isinstance(app.extensions["shout"], extension.Shout)


def test_a_flask_module_microasgi_lacks_is_named(as_flask: None) -> None:
    with pytest.raises(ModuleNotFoundError) as caught:
        importlib.import_module("flask.not_a_flask_module")

    assert caught.value.name == "flask.not_a_flask_module"
    message = str(caught.value)
    assert "'flask.not_a_flask_module'" in message
    assert "'microasgi.not_a_flask_module'" in message


def test_installing_twice_changes_nothing(as_flask: None) -> None:
    finders = list(sys.meta_path)

    install_as_flask()

    assert sys.meta_path == finders
    assert sys.modules["flask"] is microasgi


def test_real_flask_imported_first_is_refused(no_flask: None) -> None:
    real_flask = importlib.import_module("flask")
    assert real_flask is not microasgi
    finders = list(sys.meta_path)

    with pytest.raises(ImportError) as caught:
        install_as_flask()

    message = str(caught.value)
    assert "real Flask is already imported" in message
    assert "import microasgi.as_flask" in message
    assert "-p microasgi.as_flask" in message
    # Nothing was half-installed.
    assert sys.meta_path == finders
    assert sys.modules["flask"] is real_flask


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_importing_the_opt_in_aliases_lazily(tmp_path: Path) -> None:
    result = _python(
        """
        import sys
        import microasgi.as_flask
        import microasgi

        assert sys.modules["flask"] is microasgi
        # Nothing more than microasgi itself is imported up front.
        assert "microasgi.testing" not in sys.modules
        assert "flask.testing" not in sys.modules

        import flask.testing

        assert sys.modules["microasgi.testing"] is flask.testing
        assert flask.testing.__name__ == "microasgi.testing"
        print("ok")
        """,
        tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_as_a_pytest_plugin_it_comes_before_conftest(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text("from flask import Flask\n\nFLASK = Flask\n")
    (tmp_path / "test_suite.py").write_text(
        textwrap.dedent(
            """
            import flask
            import microasgi
            from conftest import FLASK


            def test_flask_is_microasgi():
                assert flask is microasgi
                assert FLASK is microasgi.Flask
            """
        )
    )
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_suite.py"]
    # This venv's other plugins (hypothesis, ...) only slow the child down.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *extra], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )

    with_plugin = run("-p", "microasgi.as_flask")
    without = run()

    assert with_plugin.returncode == 0, with_plugin.stdout + with_plugin.stderr
    assert "1 passed" in with_plugin.stdout
    assert without.returncode == 1, without.stdout + without.stderr
    assert "1 failed" in without.stdout
