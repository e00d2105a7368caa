from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner as ClickRunner
from click.testing import Result

from microasgi.app import MicroASGI
from microasgi.cli import (
    AppGroup,
    MicroASGIGroup,
    NoAppException,
    ScriptInfo,
    cli,
    find_app_by_string,
    find_best_app,
    locate_app,
    prepare_import,
    with_appcontext,
)
from microasgi.globals import _cv_app, current_app, g
from microasgi.testing import CliRunner

HELLO = """
from microasgi.app import MicroASGI

app = MicroASGI(__name__)

@app.get("/")
def index():
    return "hello"
"""

FACTORY = """
from microasgi.app import MicroASGI

def create_app(name="factory", debug=False):
    app = MicroASGI(name)
    app.config["FROM_FACTORY"] = (name, debug)
    return app
"""

COMMANDS = """
import click
from microasgi.app import MicroASGI
from microasgi.globals import current_app

app = MicroASGI(__name__)

@app.cli.command()
def hello():
    click.echo(f"hello from {current_app.name}")

@app.cli.command  # without parentheses, as click allows
def debug():
    click.echo(f"debug={current_app.debug}")
"""


#: Variables the commands read or set: unset for each test, and put back after.
ENVIRONMENT = (
    "MICROASGI_APP",
    "MICROASGI_DEBUG",
    "MICROASGI_RUN",
    "MICROASGI_RUN_FROM_CLI",
    "MICROASGI_SKIP_DOTENV",
    "FLASK_APP",
    "FLASK_DEBUG",
    "FLASK_SKIP_DOTENV",
    "PYTHONSTARTUP",
    "DOTENV_VALUE",
    "FLASKENV_VALUE",
)


def _unset(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    # setenv first, so that undoing also removes a value the test's code set.
    monkeypatch.setenv(name, "")
    monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A clean project folder as the current directory; new modules are forgotten after."""
    outer = [name for name in os.environ if name.startswith(("MICROASGI_", "FLASK_"))]
    for name in {*outer, *ENVIRONMENT}:
        _unset(monkeypatch, name)
    monkeypatch.syspath_prepend(str(tmp_path))  # restores sys.path afterwards
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert _cv_app.get(None) is None, "a command left an app context pushed"
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    importlib.invalidate_caches()
    return path


def invoke(args: list[str], **kwargs: Any) -> Result:
    return ClickRunner().invoke(cli, args, **kwargs)


# -- discovery ---------------------------------------------------------------------------


def test_module_and_attribute(project: Path) -> None:
    write(project / "hello.py", HELLO)
    info = ScriptInfo("hello:app")
    app = info.load_app()
    assert isinstance(app, MicroASGI)
    assert app.name == "hello"
    assert info.load_app() is app
    assert (info.import_string, info.factory) == ("hello:app", False)


@pytest.mark.parametrize("attr", ["app", "application", "anything"])
def test_module_alone_finds_the_app(project: Path, attr: str) -> None:
    write(project / "mod.py", f"from microasgi.app import MicroASGI\n{attr} = MicroASGI('mod')\n")
    info = ScriptInfo("mod")
    assert info.load_app().name == "mod"
    assert info.import_string == f"mod:{attr}"


def test_app_wins_over_other_instances(project: Path) -> None:
    write(
        project / "mod.py",
        "from microasgi.app import MicroASGI\nother = MicroASGI('other')\napp = MicroASGI('mod')\n",
    )
    assert locate_app("mod").name == "mod"


def test_several_apps_need_a_name(project: Path) -> None:
    write(
        project / "mod.py",
        "from microasgi.app import MicroASGI\none = MicroASGI('one')\ntwo = MicroASGI('two')\n",
    )
    with pytest.raises(NoAppException, match=r"multiple microasgi applications .*one, two"):
        ScriptInfo("mod").load_app()
    assert ScriptInfo("mod:two").load_app().name == "two"


@pytest.mark.parametrize("factory", ["create_app", "make_app"])
def test_module_alone_finds_a_factory(project: Path, factory: str) -> None:
    write(project / "fact.py", FACTORY.replace("create_app", factory))
    info = ScriptInfo("fact")
    app = info.load_app()
    assert app.config["FROM_FACTORY"] == ("factory", False)
    assert (info.import_string, info.factory) == (f"fact:{factory}", True)


def test_factory_by_name_with_and_without_call(project: Path) -> None:
    write(project / "fact.py", FACTORY)
    for spec in ("fact:create_app", "fact:create_app()"):
        info = ScriptInfo(spec)
        assert info.load_app().config["FROM_FACTORY"] == ("factory", False)
        assert (info.import_string, info.factory) == ("fact:create_app", True)


def test_factory_with_literal_arguments(project: Path) -> None:
    write(project / "fact.py", FACTORY)
    info = ScriptInfo("fact:create_app('custom', debug=True)")
    assert info.load_app().config["FROM_FACTORY"] == ("custom", True)
    # uvicorn cannot call a factory with arguments: no import string.
    assert info.import_string is None


def test_factory_needing_arguments(project: Path) -> None:
    write(project / "fact.py", "def create_app(config):\n    raise AssertionError\n")
    with pytest.raises(
        NoAppException, match=r"could not call it without arguments.*create_app\(args\)"
    ):
        ScriptInfo("fact").load_app()
    with pytest.raises(NoAppException, match="could not be called with the specified arguments"):
        ScriptInfo("fact:create_app(1, 2)").load_app()


def test_type_error_inside_factory_is_not_masked(project: Path) -> None:
    write(project / "fact.py", "def create_app():\n    return len(1)\n")
    with pytest.raises(TypeError, match="has no len"):
        ScriptInfo("fact").load_app()


def test_factory_must_return_an_app(project: Path) -> None:
    write(project / "fact.py", "def create_app():\n    return 42\n")
    with pytest.raises(NoAppException, match="the factory returned a int"):
        ScriptInfo("fact:create_app").load_app()
    write(project / "afact.py", "async def create_app():\n    pass\n")
    with pytest.raises(NoAppException, match="is async"):
        ScriptInfo("afact:create_app").load_app()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("hello:nope", "Failed to find attribute 'nope' in 'hello'"),
        ("hello:app.x", "Failed to parse 'app.x' as an attribute name or a function call"),
        ("hello:app(", "Failed to parse 'app\\(' as an attribute name"),
        ("hello:index(x)", "only literal values"),
        ("hello:app()", "is an application, not a factory"),
        ("hello:MicroASGI", "not an application or a factory"),
        ("nope_module:app", "Could not import 'nope_module'"),
        ("nope_package.module", "Could not import 'nope_package.module'"),
    ],
)
def test_errors_say_what_went_wrong(project: Path, spec: str, message: str) -> None:
    write(project / "hello.py", HELLO)
    with pytest.raises(NoAppException, match=message):
        ScriptInfo(spec).load_app()


def test_empty_module(project: Path) -> None:
    write(project / "empty.py", "x = 1\n")
    with pytest.raises(NoAppException, match="Failed to find a microasgi application or factory"):
        ScriptInfo("empty").load_app()


def test_import_error_inside_the_module_shows_its_traceback(project: Path) -> None:
    write(project / "broken.py", "import not_a_real_dependency_xyz\n")
    with pytest.raises(NoAppException) as info:
        ScriptInfo("broken:app").load_app()
    message = info.value.format_message()
    assert "While importing 'broken', an ImportError was raised" in message
    assert "Traceback" in message
    assert "not_a_real_dependency_xyz" in message


def test_file_path(project: Path) -> None:
    write(project / "some" / "folder" / "serve.py", HELLO)
    info = ScriptInfo("some/folder/serve.py")
    assert info.load_app().name == "serve"
    assert info.import_string == "serve:app"
    assert sys.path[0] == str(project / "some" / "folder")


def test_file_path_inside_a_package_keeps_the_dotted_name(project: Path) -> None:
    write(project / "src" / "pkg" / "__init__.py", "")
    write(project / "src" / "pkg" / "routes.py", "MESSAGE = 'relative'\n")
    write(
        project / "src" / "pkg" / "main.py",
        HELLO + "from .routes import MESSAGE\nweb = app\ndel app\n",
    )
    info = ScriptInfo(str(project / "src" / "pkg" / "main.py") + ":web")
    assert info.load_app().name == "pkg.main"
    assert info.import_string == "pkg.main:web"


def test_prepare_import(project: Path) -> None:
    write(project / "pkg" / "__init__.py", "")
    assert prepare_import("pkg/__init__.py") == "pkg"
    assert prepare_import("pkg/views.py") == "pkg.views"
    assert prepare_import("examples.hello.app") == "examples.hello.app"
    assert sys.path[0] == str(project)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["asgi.py", "app.py", "wsgi.py"], "asgi"),
        (["app.py", "wsgi.py"], "app"),
        (["wsgi.py"], "wsgi"),
    ],
)
def test_default_files(project: Path, files: list[str], expected: str) -> None:
    for name in files:
        write(project / name, HELLO)
    info = ScriptInfo()
    assert info.load_app().name == expected
    assert info.import_string == f"{expected}:app"


def test_nothing_to_find(project: Path) -> None:
    with pytest.raises(NoAppException) as info:
        ScriptInfo().load_app()
    assert info.value.format_message() == (
        "Could not locate a microasgi application. Use the 'microasgi --app' option,"
        " 'MICROASGI_APP' (or 'FLASK_APP') environment variable, or an 'asgi.py' or 'app.py'"
        " file in the current directory."
    )
    result = invoke(["routes"])
    assert result.exit_code == 2
    assert "Could not locate a microasgi application" in result.output


def test_create_app_callback(project: Path) -> None:
    app = MicroASGI("made")
    assert ScriptInfo(create_app=lambda: app).load_app() is app
    with pytest.raises(NoAppException, match="create_app callback"):
        ScriptInfo(create_app=lambda: "nope").load_app()  # type: ignore[arg-type,return-value]


def test_app_option_and_environment_variable(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "cmds.py", COMMANDS)
    assert invoke(["--app", "cmds:app", "hello"]).output == "hello from cmds\n"
    assert invoke(["-A", "cmds", "hello"]).output == "hello from cmds\n"
    monkeypatch.setenv("MICROASGI_APP", "cmds")
    assert invoke(["hello"]).output == "hello from cmds\n"


REAL_FLASK = """
from flask import Flask

app = Flask(__name__)
"""


@pytest.mark.parametrize(
    ("source", "spec", "where"),
    [
        (REAL_FLASK, "realflask", "'realflask:app'"),
        (REAL_FLASK, "realflask:app", "'realflask:app'"),
        (REAL_FLASK.replace("app =", "web ="), "realflask", "'realflask:web'"),
        (
            "import flask\nclass Mine(flask.Flask):\n    pass\nmine = Mine(__name__)\n",
            "realflask",
            "'realflask:mine'",
        ),
        (
            "from flask import Flask\ndef create_app():\n    return Flask(__name__)\n",
            "realflask:create_app",
            "What 'realflask:create_app' returned",
        ),
    ],
)
def test_a_real_flask_app_is_refused_with_the_import_to_change(
    project: Path, source: str, spec: str, where: str
) -> None:
    write(project / "realflask.py", source)
    with pytest.raises(NoAppException) as info:
        ScriptInfo(spec).load_app()
    message = info.value.format_message()
    assert message.startswith(f"{where} is a Flask application (flask.Flask)")
    assert "'from flask import Flask' -> 'from microasgi import Flask'" in message
    assert "the flask opt-in (docs/migrating.md): 'import microasgi.as_flask'" in message
    result = invoke(["--app", spec, "routes"])
    assert result.exit_code == 2
    assert "from microasgi import Flask" in result.output


def test_a_real_flask_app_from_a_create_app_callback() -> None:
    import flask

    with pytest.raises(NoAppException, match="What the create_app callback returned is a Flask"):
        ScriptInfo(create_app=lambda: flask.Flask("real")).load_app()  # type: ignore[arg-type,return-value]


def test_flask_discovery_names(project: Path) -> None:
    write(project / "hello.py", HELLO)
    write(project / "fact.py", FACTORY)
    hello, fact = importlib.import_module("hello"), importlib.import_module("fact")
    assert find_best_app(hello) is hello.app
    assert find_best_app(fact).config["FROM_FACTORY"] == ("factory", False)
    assert find_app_by_string(hello, "app") is hello.app
    assert find_app_by_string(fact, "create_app('x')").config["FROM_FACTORY"] == ("x", False)
    assert locate_app("no_such_module_xyz", None, raise_if_not_found=False) is None
    with pytest.raises(NoAppException, match="Could not import 'no_such_module_xyz'"):
        locate_app("no_such_module_xyz")
    # A module that exists but fails to import is an error either way.
    write(project / "broken.py", "import not_a_real_dependency_xyz\n")
    with pytest.raises(NoAppException, match="While importing 'broken'"):
        locate_app("broken", raise_if_not_found=False)


def test_flask_cli_names_take_flasks_arguments() -> None:
    """What extensions and scripts call in ``flask.cli`` takes the same arguments here."""
    import inspect

    import flask.cli

    import microasgi.cli

    names = [
        "find_best_app",
        "find_app_by_string",
        "prepare_import",
        "locate_app",
        "get_version",
        "with_appcontext",
        "load_dotenv",
        "show_server_banner",
    ]
    for name in names:
        ours = inspect.signature(getattr(microasgi.cli, name)).parameters
        theirs = inspect.signature(getattr(flask.cli, name)).parameters
        assert list(ours) == list(theirs), name
    for name in ("ScriptInfo", "FlaskGroup", "AppGroup"):
        ours = inspect.signature(getattr(microasgi.cli, name)).parameters
        theirs = inspect.signature(getattr(flask.cli, name)).parameters
        assert list(ours) == list(theirs), name
    assert microasgi.cli.FlaskGroup is MicroASGIGroup
    assert microasgi.cli.pass_script_info is not None
    assert isinstance(microasgi.cli.version_option, click.Option)


# -- app commands ------------------------------------------------------------------------


def test_app_commands_run_in_the_app_context(project: Path) -> None:
    write(
        project / "cmds.py",
        COMMANDS
        + """
@app.cli.group()
def db():
    "Database commands."

@db.command()
def init():
    from microasgi.globals import g
    g.user = "admin"
    click.echo(f"init {current_app.name} {g.user}")

@db.group()
def seed():
    pass

@seed.command("all")
def seed_all():
    click.echo(f"seeded {current_app.name}")

plain = click.Command("plain", callback=lambda: click.echo(f"plain {current_app.name}"))
app.cli.add_command(plain)

@app.cli.command()
async def fetch():
    import anyio
    await anyio.sleep(0)
    click.echo(f"async {current_app.name}")
""",
    )
    assert invoke(["--app", "cmds", "db", "init"]).output == "init cmds admin\n"
    assert invoke(["--app", "cmds", "db", "seed", "all"]).output == "seeded cmds\n"
    assert invoke(["--app", "cmds", "plain"]).output == "plain cmds\n"
    assert invoke(["--app", "cmds", "fetch"]).output == "async cmds\n"
    app = locate_app("cmds")
    assert isinstance(app.cli, AppGroup)
    assert isinstance(app.cli.commands["db"], AppGroup)
    assert isinstance(app.cli.commands["db"].commands["seed"], AppGroup)


def test_command_without_app_context() -> None:
    app = MicroASGI("plain")

    @app.cli.command(with_appcontext=False)
    def bare() -> None:
        from microasgi.ctx import has_app_context

        click.echo(f"context={has_app_context()}")

    assert app.test_cli_runner().invoke(args=["bare"]).output == "context=False\n"


def test_with_appcontext_decorator() -> None:
    app = MicroASGI("decorated")
    torn_down: list[BaseException | None] = []
    app.teardown_appcontext_funcs.append(torn_down.append)

    @click.command()
    @click.argument("name")
    @with_appcontext
    def greet(name: str) -> None:
        g.seen = name
        click.echo(f"{current_app.name} greets {name}")

    result = ClickRunner().invoke(greet, ["you"], obj=ScriptInfo(create_app=lambda: app))
    assert result.output == "decorated greets you\n"
    assert torn_down == [None]


def test_help_lists_app_commands(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project / "cmds.py", COMMANDS)
    result = invoke(["--app", "cmds", "--help"])
    assert result.exit_code == 0
    for name in ("hello", "debug", "run", "routes", "shell"):
        assert f"  {name}" in result.output
    # Without arguments help is shown, and MICROASGI_APP is read for it.
    monkeypatch.setenv("MICROASGI_APP", "cmds")
    result = invoke([])
    assert "  hello" in result.output


def test_help_alone_reads_the_app_from_the_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "cmds.py", COMMANDS)
    monkeypatch.setenv("MICROASGI_APP", "cmds")
    result = invoke(["--help"])
    assert result.exit_code == 0
    assert "  hello" in result.output


def test_help_survives_an_app_that_fails_to_load(project: Path) -> None:
    write(project / "broken.py", "import not_a_real_dependency_xyz\n")
    result = invoke(["--app", "broken", "--help"])
    assert result.exit_code == 0
    for name in ("run", "routes", "shell"):
        assert f"  {name}" in result.stdout
    assert "While importing 'broken'" in result.stderr
    result = invoke(["--app", "broken", "hello"])
    assert result.exit_code == 2
    assert "While importing 'broken'" in result.stderr
    assert "No such command 'hello'" in result.stderr


def test_unknown_command(project: Path) -> None:
    write(project / "cmds.py", COMMANDS)
    result = invoke(["--app", "cmds", "nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output


# -- options -----------------------------------------------------------------------------


def test_debug_flag(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project / "cmds.py", COMMANDS)
    assert invoke(["--app", "cmds", "debug"]).output == "debug=False\n"
    assert invoke(["--app", "cmds", "--debug", "debug"]).output == "debug=True\n"
    assert os.environ["MICROASGI_DEBUG"] == "1"  # seen by reload and worker processes
    assert invoke(["--app", "cmds", "--no-debug", "debug"]).output == "debug=False\n"
    monkeypatch.setenv("MICROASGI_DEBUG", "1")
    assert invoke(["--app", "cmds", "debug"]).output == "debug=True\n"


def test_debug_flag_after_the_app_is_loaded(project: Path) -> None:
    app = MicroASGI("loaded")
    info = ScriptInfo(create_app=lambda: app)
    info.load_app()
    result = invoke(["--debug", "routes"], obj=info)
    assert result.exit_code == 0
    assert app.debug is True


def test_env_file(project: Path) -> None:
    write(
        project / "cmds.py",
        COMMANDS
        + """
@app.cli.command()
def env():
    import os
    click.echo(os.environ["DOTENV_VALUE"])
""",
    )
    # The file may name the app too: it is read before --app looks at MICROASGI_APP.
    write(project / "settings.env", "MICROASGI_APP=cmds\nDOTENV_VALUE=from-file\n")
    result = invoke(["--env-file", "settings.env", "env"])
    assert result.output == "from-file\n"


def test_flask_variables(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project / "cmds.py", COMMANDS)
    write(project / "other.py", COMMANDS.replace("hello from", "hello from other"))
    monkeypatch.setenv("FLASK_APP", "cmds")
    assert invoke(["hello"]).output == "hello from cmds\n"
    monkeypatch.setenv("MICROASGI_APP", "other")  # ours wins
    assert invoke(["hello"]).output == "hello from other other\n"
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert invoke(["debug"]).output == "debug=True\n"
    monkeypatch.setenv("MICROASGI_DEBUG", "0")  # ours wins
    assert invoke(["debug"]).output == "debug=False\n"


ENV_COMMAND = """
@app.cli.command()
def env():
    import os
    click.echo(" ".join(os.environ.get(name, "-") for name in ("DOTENV_VALUE", "FLASKENV_VALUE")))
"""


def test_dotenv_files(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project / "cmds.py", COMMANDS + ENV_COMMAND)
    # .flaskenv may name the app: the files are read before --app looks for it.
    write(project / ".flaskenv", "FLASK_APP=cmds\nFLASKENV_VALUE=flaskenv\nDOTENV_VALUE=flaskenv\n")
    write(project / ".env", "DOTENV_VALUE=env\n")
    write(project / "sub" / "x.txt", "")
    monkeypatch.chdir(project / "sub")  # found looking up from the current folder
    result = invoke(["env"])
    assert result.output == "env flaskenv\n", result.output  # .env wins over .flaskenv


def test_env_file_wins_over_dotenv_files(project: Path) -> None:
    write(project / "cmds.py", COMMANDS + ENV_COMMAND)
    write(project / ".env", "MICROASGI_APP=cmds\nDOTENV_VALUE=env\n")
    write(project / "settings.env", "DOTENV_VALUE=settings\n")
    assert invoke(["-e", "settings.env", "env"]).output == "settings -\n"


def test_environment_wins_over_dotenv_files(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project / "cmds.py", COMMANDS + ENV_COMMAND)
    write(project / ".env", "MICROASGI_APP=cmds\nDOTENV_VALUE=env\n")
    monkeypatch.setenv("DOTENV_VALUE", "environment")
    assert invoke(["env"]).output == "environment -\n"


@pytest.mark.parametrize("variable", ["MICROASGI_SKIP_DOTENV", "FLASK_SKIP_DOTENV", None])
def test_dotenv_files_skipped(
    project: Path, monkeypatch: pytest.MonkeyPatch, variable: str | None
) -> None:
    write(project / "cmds.py", COMMANDS + ENV_COMMAND)
    write(project / ".env", "DOTENV_VALUE=env\n")
    write(project / "settings.env", "FLASKENV_VALUE=settings\n")
    if variable is None:
        group = MicroASGIGroup(name="manage", load_dotenv=False)
    else:
        monkeypatch.setenv(variable, "1")
        group = cli
    result = ClickRunner().invoke(group, ["--app", "cmds", "env"])
    assert result.output == "- -\n"
    # A file named with --env-file is still read.
    result = ClickRunner().invoke(group, ["-e", "settings.env", "--app", "cmds", "env"])
    assert result.output == "- settings\n"


def test_an_unguarded_app_run_does_not_block_a_command(project: Path, served: list[Any]) -> None:
    write(project / "blocking.py", HELLO + "\napp.run()\n")
    result = invoke(["--app", "blocking", "routes"])
    assert result.exit_code == 0, result.output
    assert served == []
    assert "Ignoring a call to 'app.run()' that would block" in result.output
    assert "index" in result.output


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert "Python " in result.output
    assert "microasgi " in result.output
    assert "uvicorn " in result.output


# -- routes ------------------------------------------------------------------------------


@pytest.fixture
def routed_app() -> MicroASGI:
    app = MicroASGI("routed", static_folder=None)

    @app.get("/zebra")
    def zebra() -> str:
        return "z"

    @app.route("/items/<int:item_id>", methods=["GET", "PUT", "DELETE"])
    def item(item_id: int) -> str:
        return "i"

    @app.post("/apple")
    def apple() -> str:
        return "a"

    return app


def routes_output(app: MicroASGI, *args: str) -> list[str]:
    result = app.test_cli_runner().invoke(cli, ["routes", *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_routes_lists_the_static_route_by_default() -> None:
    app = MicroASGI("with_static")
    assert routes_output(app)[2:] == ["static    GET      /static/<path:filename>"]


def test_routes_table(routed_app: MicroASGI) -> None:
    assert routes_output(routed_app) == [
        "Endpoint  Methods           Rule",
        "--------  ----------------  --------------------",
        "apple     POST              /apple",
        "item      DELETE, GET, PUT  /items/<int:item_id>",
        "zebra     GET               /zebra",
    ]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("endpoint", ["apple", "item", "zebra"]),
        ("rule", ["apple", "item", "zebra"]),
        ("methods", ["item", "zebra", "apple"]),
        ("match", ["zebra", "item", "apple"]),
    ],
)
def test_routes_sorting(routed_app: MicroASGI, sort: str, order: list[str]) -> None:
    lines = routes_output(routed_app, "--sort", sort)
    assert [line.split()[0] for line in lines[2:]] == order
    assert routes_output(routed_app, "-s", sort) == lines


def test_routes_all_methods(routed_app: MicroASGI) -> None:
    lines = routes_output(routed_app, "--all-methods")
    assert "GET, HEAD, OPTIONS" in lines[-1]
    assert not any("HEAD" in line for line in routes_output(routed_app))


def test_routes_empty() -> None:
    assert routes_output(MicroASGI("empty", static_folder=None)) == ["No routes were registered."]


def test_routes_bad_sort(routed_app: MicroASGI) -> None:
    result = routed_app.test_cli_runner().invoke(cli, ["routes", "--sort", "size"])
    assert result.exit_code == 2
    assert "'size' is not one of" in result.output


# -- shell -------------------------------------------------------------------------------


def test_shell(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = MicroASGI("shelled")
    app.shell_context_processor(lambda: {"answer": 42})
    startup = write(project / "startup.py", "from_startup = 'yes'\n")
    monkeypatch.setenv("PYTHONSTARTUP", str(startup))
    code = "print(app.name, answer, from_startup)\ng.x = 1\nprint(g.x)\n"
    result = app.test_cli_runner().invoke(cli, ["shell"], input=code)
    assert result.exit_code == 0, result.output
    # Each line is echoed after its ">>> " prompt.
    assert result.stdout == ">>> shelled 42 yes\n>>> >>> 1\n>>> "
    assert f"Python {sys.version}" in result.stderr
    assert "App: shelled" in result.stderr


# -- run (uvicorn faked) -----------------------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    return calls


def test_run_serves_the_app_object(project: Path, served: list[Any]) -> None:
    write(project / "hello.py", HELLO)
    assert "MICROASGI_RUN" not in os.environ
    result = invoke(["--app", "hello:app", "run"])
    assert result.exit_code == 0, result.output
    # The server's process (and its workers) now belongs to microasgi: GC_TUNING=None tunes.
    assert os.environ["MICROASGI_RUN"] == "1"
    assert result.output == " * Serving microasgi app 'hello'\n * Debug mode: off\n"
    [(target, options)] = served
    assert isinstance(target, MicroASGI)
    assert options == {
        "host": "127.0.0.1",
        "port": 5000,
        "reload": False,
        "workers": None,
        "log_level": "info",
        "proxy_headers": False,
        "factory": False,
        # Protective settings (docs/deployment.md):
        "limit_concurrency": 1000,
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": 16384,
        "ws_max_size": 1024 * 1024,
    }


def test_run_with_granian(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import granian

    started: list[tuple[Any, dict[str, Any]]] = []

    class FakeGranian:
        def __init__(self, target: str, **options: Any) -> None:
            started.append((target, options))

        def serve(self) -> None:
            started.append(("served", {}))

    monkeypatch.setattr(granian, "Granian", FakeGranian)
    write(project / "hello.py", HELLO)
    result = invoke(
        ["--app", "hello", "run", "--server", "granian", "-p", "8002", "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    (target, options), served_marker = started
    assert target == "hello:app"
    assert options["port"] == 8002
    assert options["workers"] == 2
    assert str(options["interface"].value) == "asgi"
    assert options["backpressure"] == 1000
    assert options["http1_settings"].header_read_timeout == 10_000
    assert served_marker == ("served", {})


def test_run_with_hypercorn_and_protective_settings(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hypercorn.run

    configs: list[Any] = []
    monkeypatch.setattr(hypercorn.run, "run", configs.append)
    write(project / "hello.py", HELLO)
    args = ["--app", "hello", "run", "--server", "hypercorn", "-p", "8003"]
    result = invoke([*args, "--header-timeout", "3", "--timeout-keep-alive", "2"])
    assert result.exit_code == 0, result.output
    [config] = configs
    assert (config.application_path, config.bind) == ("hello:app", ["127.0.0.1:8003"])
    assert (config.read_timeout, config.keep_alive_timeout) == (3, 2)
    assert config.h11_max_incomplete_size == 16384
    assert config.websocket_max_message_size == 1024 * 1024
    write(project / "fact.py", FACTORY)
    assert invoke(["--app", "fact", "run", "--server", "hypercorn"]).exit_code == 0
    assert configs[-1].application_path == "fact:create_app()"


def test_run_with_granian_needs_an_importable_app(project: Path) -> None:
    write(
        project / "hello.py",
        HELLO.replace("app = MicroASGI", "def make(x):\n    return app\napp = MicroASGI"),
    )
    result = invoke(["--app", "hello:make(1)", "run", "--server", "granian"])
    assert result.exit_code == 2
    assert "granian imports the app by name" in result.output


def test_run_options(project: Path, served: list[Any]) -> None:
    write(project / "hello.py", HELLO)
    args = ["--app", "hello", "run", "-h", "0.0.0.0", "-p", "8001", "--proxy-headers"]
    result = invoke([*args, "--log-level", "warning", "--workers", "3"])
    assert result.exit_code == 0, result.output
    [(target, options)] = served
    assert target == "hello:app"  # new processes import the app by name
    assert options["host"] == "0.0.0.0"
    assert options["port"] == 8001
    assert options["workers"] == 3
    assert options["log_level"] == "warning"
    assert options["proxy_headers"] is True


def test_run_debug_reloads(project: Path, served: list[Any]) -> None:
    write(project / "hello.py", HELLO)
    result = invoke(["--app", "hello", "run", "--debug"])
    assert " * Debug mode: on" in result.output
    assert invoke(["--app", "hello", "--debug", "run", "--no-reload"]).exit_code == 0
    (first, first_options), (second, second_options) = served
    assert first == "hello:app"
    assert (first_options["reload"], first_options["log_level"]) == (True, "debug")
    assert isinstance(second, MicroASGI)
    assert second_options["reload"] is False


def test_run_factory(project: Path, served: list[Any]) -> None:
    write(project / "fact.py", FACTORY)
    assert invoke(["--app", "fact", "run", "--reload"]).exit_code == 0
    [(target, options)] = served
    assert (target, options["factory"], options["reload"]) == ("fact:create_app", True, True)


def test_run_factory_with_arguments(project: Path, served: list[Any]) -> None:
    write(project / "fact.py", FACTORY)
    result = invoke(["--app", "fact:create_app('x')", "run", "--reload"])
    assert result.exit_code == 2
    assert "need an app that uvicorn can import by name" in result.output
    # Debug mode only turns reloading on where it can work.
    result = invoke(["--app", "fact:create_app('x')", "run", "--debug"])
    assert result.exit_code == 0, result.output
    [(target, options)] = served
    assert isinstance(target, MicroASGI)
    assert options["reload"] is False


def test_run_reload_and_workers_conflict(project: Path, served: list[Any]) -> None:
    write(project / "hello.py", HELLO)
    result = invoke(["--app", "hello", "run", "--reload", "--workers", "2"])
    assert result.exit_code == 2
    assert "mutually exclusive" in result.output
    assert served == []


# -- commands from extensions and installed packages -----------------------------------

#: Registers its ``db`` group as Flask-Migrate does: its commands use ``with_appcontext``
#: and ``current_app`` from ``flask.cli`` and ``flask``.
FAKE_MIGRATE = """
import click
from flask import current_app
from flask.cli import with_appcontext


@click.group()
def db():
    "Perform database migrations."


@db.command()
@click.option("--sql", is_flag=True)
@with_appcontext
def upgrade(sql):
    "Upgrade to a later version."
    click.echo(f"upgrade {current_app.name} sql={sql} {current_app.extensions['migrate']}")


class Migrate:
    def __init__(self, app=None, register_cli=False):
        self.register_cli = register_cli
        if app is not None:
            self.init_app(app)

    def init_app(self, app):
        app.extensions["migrate"] = "configured"
        if self.register_cli:
            app.cli.add_command(db)
"""

MIGRATED_APP = """
from microasgi import MicroASGI
from fake_migrate import Migrate

app = MicroASGI(__name__)
Migrate(app, register_cli=REGISTER)
"""


def install_entry_points(project: Path, **groups: str) -> None:
    """A distribution on ``sys.path`` declaring entry points (``flask_commands="db = m:db"``)."""
    info = project / "fake_ext-1.0.dist-info"
    write(info / "METADATA", "Metadata-Version: 2.1\nName: fake-ext\nVersion: 1.0\n")
    sections = [f"[{group.replace('_', '.')}]\n{lines}\n" for group, lines in groups.items()]
    write(info / "entry_points.txt", "\n".join(sections))


@pytest.fixture
def flask_is_microasgi(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the flask opt-in (install_as_flask) does for the modules these tests import; the
    real one refuses to run once the real Flask is imported, as other tests here do."""
    import microasgi
    import microasgi.cli

    monkeypatch.setitem(sys.modules, "flask", microasgi)
    monkeypatch.setitem(sys.modules, "flask.cli", microasgi.cli)


def test_extension_adds_its_group_to_app_cli(project: Path) -> None:
    source = FAKE_MIGRATE.replace("from flask import", "from microasgi import")
    write(project / "fake_migrate.py", source.replace("flask.cli", "microasgi.cli"))
    write(project / "migrated.py", MIGRATED_APP.replace("REGISTER", "True"))
    result = invoke(["--app", "migrated", "db", "upgrade", "--sql"])
    assert result.output == "upgrade migrated sql=True configured\n", result.output
    assert "  db " in invoke(["--app", "migrated", "--help"]).output


def test_flask_commands_entry_point_under_the_opt_in(
    project: Path, flask_is_microasgi: None
) -> None:
    write(project / "fake_migrate.py", FAKE_MIGRATE)
    write(project / "migrated.py", MIGRATED_APP.replace("REGISTER", "False"))
    install_entry_points(project, flask_commands="db = fake_migrate:db")
    group = MicroASGIGroup(name="microasgi")
    result = ClickRunner().invoke(group, ["--app", "migrated", "db", "upgrade"])
    assert result.output == "upgrade migrated sql=False configured\n", result.output
    assert "  db " in ClickRunner().invoke(group, ["--app", "migrated", "--help"]).output


def test_flask_commands_entry_points_wait_for_the_opt_in(project: Path) -> None:
    # Their modules import flask: without the opt-in that is the real Flask, whose
    # with_appcontext and current_app know nothing of a microasgi app.
    write(project / "fake_migrate.py", FAKE_MIGRATE)
    write(project / "cmds.py", COMMANDS)
    install_entry_points(project, flask_commands="db = fake_migrate:db")
    group = MicroASGIGroup(name="microasgi")
    result = ClickRunner().invoke(group, ["--app", "cmds", "db", "upgrade"])
    assert result.exit_code == 2
    assert "No such command 'db'" in result.output
    assert "fake_migrate" not in sys.modules


def test_microasgi_commands_entry_points(project: Path) -> None:
    write(
        project / "fake_plugin.py",
        "import click\n\n@click.command()\ndef greet():\n    click.echo('hello from a plugin')\n",
    )
    install_entry_points(
        project,
        microasgi_commands="greet = fake_plugin:greet\nbroken = not_a_module_xyz:command",
    )
    group = MicroASGIGroup(name="microasgi")
    # No app is needed for a plugin's command.
    result = ClickRunner().invoke(group, ["greet"])
    assert result.stdout == "hello from a plugin\n"
    assert "not_a_module_xyz" in result.stderr  # a plugin that fails to load is reported
    write(project / "cmds.py", COMMANDS)
    listing = ClickRunner().invoke(group, ["--app", "cmds", "--help"]).stdout
    assert "  greet" in listing
    assert "  hello" in listing


# -- testing helpers ---------------------------------------------------------------------


def test_test_cli_runner() -> None:
    from microasgi import testing

    assert testing.CliRunner is CliRunner
    app = MicroASGI("tested")

    @app.cli.command()
    @click.option("--who", default="world")
    def hello(who: str) -> None:
        click.echo(f"{current_app.name} says hello to {who}")

    runner = app.test_cli_runner()
    assert isinstance(runner, CliRunner)
    assert runner.invoke(args=["hello", "--who", "you"]).output == "tested says hello to you\n"
    assert testing.CliRunner(app).invoke(args="hello").output == "tested says hello to world\n"

    @click.command()
    @with_appcontext
    def standalone() -> None:
        click.echo(current_app.name)

    assert runner.invoke(standalone).output == "tested\n"


def test_custom_group_with_create_app() -> None:
    app = MicroASGI("managed")

    @app.cli.command()
    def hello() -> None:
        click.echo(f"hello {current_app.name}")

    group = MicroASGIGroup(name="manage", create_app=lambda: app, add_version_option=False)
    result = ClickRunner().invoke(group, ["hello"])
    assert result.output == "hello managed\n"
    assert "--version" not in ClickRunner().invoke(group, ["--help"]).output


# -- a real server -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_run_serves_over_http(project: Path) -> None:
    write(project / "served.py", HELLO)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROASGI_")}
    log_path = project / "server.log"
    command = [sys.executable, "-m", "microasgi.cli", "--app", "served:app"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "run", "--port", str(port)],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.text == "hello"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    assert " * Serving microasgi app 'served'" in log_path.read_text()
