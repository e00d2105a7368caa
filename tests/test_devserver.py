"""``app.run()`` as Flask's, served by uvicorn; the dotenv files and the environment flags
that it and the ``microasgi`` command read (``microasgi/devserver.py``)."""

from __future__ import annotations

import importlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from microasgi.app import MicroASGI
from microasgi.devserver import get_debug_flag, get_load_dotenv, load_dotenv

ENVIRONMENT = (
    "MICROASGI_DEBUG",
    "MICROASGI_RUN_FROM_CLI",
    "MICROASGI_SKIP_DOTENV",
    "FLASK_DEBUG",
    "FLASK_SKIP_DOTENV",
    "FROM_ENV",
    "FROM_FLASKENV",
    "FROM_FILE",
)


@pytest.fixture(autouse=True)
def project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A project folder as the current one, with none of the variables a run reads."""
    for name in ENVIRONMENT:
        monkeypatch.setenv(name, "")  # so that undoing also removes what a run set
        monkeypatch.delenv(name)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """uvicorn.run, faked: each call's target and keywords, and the variables it saw."""
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []

    def run(target: Any, **options: Any) -> None:
        seen = {
            name: os.environ.get(name) for name in ("MICROASGI_DEBUG", "MICROASGI_RUN_FROM_CLI")
        }
        calls.append((target, {**options, "environ": seen}))

    monkeypatch.setattr(uvicorn, "run", run)
    return calls


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    importlib.invalidate_caches()
    return path


def importable_app(project: Path, name: str = "served") -> MicroASGI:
    """An app that is an attribute of its module, so uvicorn can import it by name."""
    write(project / f"{name}.py", "from microasgi import MicroASGI\napp = MicroASGI(__name__)\n")
    app = importlib.import_module(name).app
    assert isinstance(app, MicroASGI)
    return app


# -- app.run's arguments -------------------------------------------------------------------


def test_defaults_as_flask(served: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    app = MicroASGI("plain")
    app.run()
    [(target, options)] = served
    assert target is app
    assert options == {
        "host": "127.0.0.1",
        "port": 5000,
        "reload": False,
        "workers": None,
        "log_level": "info",
        "environ": {"MICROASGI_DEBUG": None, "MICROASGI_RUN_FROM_CLI": None},
    }
    assert capsys.readouterr().out == " * Serving microasgi app 'plain'\n * Debug mode: off\n"


def test_the_call_from_the_issue(served: list[Any]) -> None:
    # Flask's keywords that used to raise TypeError; threaded=True is what uvicorn does.
    app = MicroASGI("ported")
    app.run(debug=True, use_reloader=False, threaded=True)
    [(target, options)] = served
    assert target is app
    assert app.debug is True
    assert (options["reload"], options["log_level"]) == (False, "debug")


def test_host_and_port(served: list[Any]) -> None:
    app = MicroASGI("addressed")
    app.config["SERVER_NAME"] = "example.test:8080"
    app.run()
    app.run("0.0.0.0", 0)
    app.run(port="9000")  # type: ignore[arg-type]
    app.config["SERVER_NAME"] = "example.test"
    app.run()
    addresses = [(options["host"], options["port"]) for _, options in served]
    assert addresses == [
        ("example.test", 8080),
        ("0.0.0.0", 0),
        ("example.test", 9000),
        ("example.test", 5000),
    ]


def test_reloader_and_processes_serve_the_import_string(project: Path, served: list[Any]) -> None:
    app = importable_app(project)
    app.run(use_reloader=True)
    app.run(processes=3)
    app.run(debug=True)  # debug mode reloads, as in Flask
    (first, reloading), (second, workers), (third, debugging) = served
    assert (first, reloading["reload"], reloading["workers"]) == ("served:app", True, None)
    assert (second, workers["reload"], workers["workers"]) == ("served:app", False, 3)
    assert (third, debugging["reload"]) == ("served:app", True)
    # The new processes import the app anew: they read debug mode, and know that an
    # app.run() they meet is this one, from the environment, which is put back after.
    assert reloading["environ"] == {"MICROASGI_DEBUG": "0", "MICROASGI_RUN_FROM_CLI": "true"}
    assert debugging["environ"]["MICROASGI_DEBUG"] == "1"
    assert "MICROASGI_DEBUG" not in os.environ
    assert "MICROASGI_RUN_FROM_CLI" not in os.environ


def test_uvicorn_names_for_reload_and_workers(project: Path, served: list[Any]) -> None:
    app = importable_app(project)
    app.run(reload=True)
    app.run(workers=2)
    (first, reloading), (second, workers) = served
    assert (first, reloading["reload"]) == ("served:app", True)
    assert (second, workers["workers"]) == ("served:app", 2)


def test_reloader_without_an_import_string(served: list[Any]) -> None:
    app = MicroASGI("made_in_a_function")
    app.run(debug=True)  # reloading that debug mode implies is dropped quietly
    with pytest.warns(UserWarning) as record:
        app.run(use_reloader=True, processes=2)
    assert len(record) == 1
    message = str(record[0].message)
    assert "use_reloader=True" in message
    assert "processes=2" in message
    assert "microasgi --app module:app run --reload" in message
    assert "microasgi --app module:app run --workers 2" in message
    assert record[0].filename == __file__  # points at the call
    assert all(target is app for target, _ in served)
    assert [(options["reload"], options["workers"]) for _, options in served] == [
        (False, None),
        (False, None),
    ]


def test_reloader_runs_one_process(project: Path, served: list[Any]) -> None:
    app = importable_app(project)
    with pytest.warns(UserWarning, match=r"processes=4 \(uvicorn runs one process"):
        app.run(use_reloader=True, processes=4)
    [(_, options)] = served
    assert (options["reload"], options["workers"]) == (True, None)


def test_werkzeug_only_keywords_are_named_in_one_warning(served: list[Any]) -> None:
    app = MicroASGI("werkzeugy")
    with pytest.warns(UserWarning) as record:
        app.run(
            use_debugger=True,
            use_evalex=False,
            threaded=False,
            request_handler=object,
            static_files={"/s": "static"},
            passthrough_errors=True,
        )
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith("app.run() ignores what uvicorn cannot do: ")
    for name in ("use_debugger", "threaded", "request_handler", "static_files"):
        assert f"{name}=" in message
    assert "passthrough_errors=True" in message
    assert "use_evalex" not in message  # nothing evaluates code here: honoured as is
    [(_, options)] = served
    assert set(options) == {"host", "port", "reload", "workers", "log_level", "environ"}


def test_werkzeug_values_that_ask_for_nothing_pass_quietly(served: list[Any]) -> None:
    MicroASGI("quiet").run(
        use_debugger=False, use_evalex=True, threaded=True, processes=1, passthrough_errors=False
    )
    assert len(served) == 1


def test_uvicorn_keywords_go_to_uvicorn(served: list[Any]) -> None:
    MicroASGI("tuned").run(ws_max_size=10, proxy_headers=False, log_level="warning")
    [(_, options)] = served
    assert (options["ws_max_size"], options["proxy_headers"]) == (10, False)
    assert options["log_level"] == "warning"


def test_unknown_keywords_fail_in_uvicorn() -> None:
    with pytest.raises(TypeError, match="not_a_server_option"):
        MicroASGI("typo").run(port=0, not_a_server_option=1)


def test_reloader_settings_map_to_uvicorn(project: Path, served: list[Any]) -> None:
    app = importable_app(project)
    (project / "conf").mkdir()
    app.run(
        use_reloader=True,
        extra_files=["conf/settings.toml"],
        exclude_patterns=["*.tmp"],
        reloader_interval=2,
    )
    app.run(use_reloader=False, extra_files=["conf/settings.toml"], reloader_type="stat")
    (_, reloading), (_, plain) = served
    assert reloading["reload_includes"] == ["conf/settings.toml"]
    assert reloading["reload_dirs"] == sorted({str(project), str(project / "conf")})
    assert reloading["reload_excludes"] == ["*.tmp"]
    assert reloading["reload_delay"] == 2.0
    # Without the reloader Werkzeug ignores them too.
    assert not {"reload_includes", "reload_dirs", "reload_delay"} & set(plain)
    with pytest.warns(UserWarning, match="reloader_type='stat'"):
        app.run(use_reloader=True, reloader_type="stat")


def test_ssl_context(served: list[Any]) -> None:
    app = MicroASGI("secure")
    app.run(ssl_context=("cert.pem", "key.pem"))
    app.run(ssl_context="both.pem")
    app.run(ssl_context=("cert.pem", "key.pem"), ssl_keyfile="other.pem")
    files = [(options["ssl_certfile"], options.get("ssl_keyfile")) for _, options in served]
    assert files == [("cert.pem", "key.pem"), ("both.pem", None), ("cert.pem", "other.pem")]


def test_ssl_context_that_uvicorn_cannot_take(served: list[Any]) -> None:
    app = MicroASGI("secure")
    with pytest.raises(TypeError, match=r"uvicorn cannot take an ssl\.SSLContext.*\(certfile"):
        app.run(ssl_context=ssl.create_default_context(ssl.Purpose.CLIENT_AUTH))
    with pytest.raises(ValueError, match="make_ssl_devcert"):
        app.run(ssl_context="adhoc")
    with pytest.raises(TypeError, match=r"must be a \(certfile, keyfile\) pair"):
        app.run(ssl_context=("a", "b", "c"))
    assert served == []


def test_a_call_under_the_microasgi_command_returns(
    served: list[Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MICROASGI_RUN_FROM_CLI", "true")
    MicroASGI("nested").run()
    assert served == []
    assert "Ignoring a call to 'app.run()'" in capsys.readouterr().out


# -- the environment -----------------------------------------------------------------------


def test_run_reads_dotenv_files(project: Path, served: list[Any]) -> None:
    write(project / ".flaskenv", "FLASK_DEBUG=1\nFROM_FLASKENV=yes\n")
    app = MicroASGI("dotted")
    app.run()
    assert os.environ["FROM_FLASKENV"] == "yes"
    assert app.debug is True
    app.run(debug=False)  # the argument wins over the files
    assert app.debug is False
    [first, second] = served
    assert first[1]["log_level"] == "debug"
    assert second[1]["log_level"] == "info"


def test_run_without_dotenv_files(
    project: Path, served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / ".env", "FROM_ENV=yes\nMICROASGI_DEBUG=1\n")
    app = MicroASGI("undotted")
    app.run(load_dotenv=False)
    assert "FROM_ENV" not in os.environ
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")
    app.run()
    assert "FROM_ENV" not in os.environ
    assert app.debug is False


def test_load_dotenv_precedence(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project / ".flaskenv", "FROM_FLASKENV=flaskenv\nFROM_ENV=flaskenv\nFROM_FILE=flaskenv\n")
    write(project / ".env", "FROM_ENV=env\nFROM_FILE=env\n")
    write(project / "custom.env", "FROM_FILE=custom\n")
    monkeypatch.setenv("FLASK_DEBUG", "from-the-environment")
    write(project / "sub" / "folder" / "x.txt", "")
    monkeypatch.chdir(project / "sub" / "folder")  # the files are found looking up
    assert load_dotenv("custom.env") is True  # not in this folder: the defaults only
    assert os.environ["FROM_FILE"] == "env"
    monkeypatch.delenv("FROM_FILE")
    assert load_dotenv(project / "custom.env") is True
    assert os.environ["FROM_FLASKENV"] == "flaskenv"
    assert os.environ["FROM_ENV"] == "env"  # .env wins over .flaskenv
    assert os.environ["FROM_FILE"] == "custom"  # the file named wins over both
    assert os.environ["FLASK_DEBUG"] == "from-the-environment"  # the environment wins
    assert Path.cwd() == project / "sub" / "folder"  # as Flask 3.1: no chdir


def test_load_dotenv_without_defaults(project: Path) -> None:
    write(project / ".env", "FROM_ENV=env\n")
    write(project / "custom.env", "FROM_FILE=custom\n")
    assert load_dotenv("custom.env", load_defaults=False) is True
    assert os.environ["FROM_FILE"] == "custom"
    assert "FROM_ENV" not in os.environ
    assert load_dotenv(load_defaults=False) is False


@pytest.mark.parametrize(
    ("microasgi", "flask", "expected"),
    [
        (None, None, False),
        ("1", None, True),
        (None, "true", True),
        (None, "0", False),
        ("on", None, True),
        ("0", "1", False),  # MICROASGI_DEBUG wins
        ("yes", "0", True),
        ("", "1", True),  # empty is unset
    ],
)
def test_debug_flag(
    monkeypatch: pytest.MonkeyPatch, microasgi: str | None, flask: str | None, expected: bool
) -> None:
    for name, value in (("MICROASGI_DEBUG", microasgi), ("FLASK_DEBUG", flask)):
        if value is not None:
            monkeypatch.setenv(name, value)
    assert get_debug_flag() is expected
    assert MicroASGI("flagged").debug is expected  # read when the app is created, as Flask


@pytest.mark.parametrize(
    ("microasgi", "flask", "expected"),
    [
        (None, None, True),
        ("1", None, False),
        (None, "1", False),
        (None, "false", True),
        ("no", "1", True),  # MICROASGI_SKIP_DOTENV wins
    ],
)
def test_load_dotenv_flag(
    monkeypatch: pytest.MonkeyPatch, microasgi: str | None, flask: str | None, expected: bool
) -> None:
    for name, value in (("MICROASGI_SKIP_DOTENV", microasgi), ("FLASK_SKIP_DOTENV", flask)):
        if value is not None:
            monkeypatch.setenv(name, value)
    assert get_load_dotenv() is expected
    assert get_load_dotenv(False) is (expected if (microasgi or flask) else False)


# -- a real server -------------------------------------------------------------------------

SCRIPT = """
from microasgi import MicroASGI, current_app

app = MicroASGI(__name__)

@app.get("/")
def index():
    return f"debug={current_app.debug}"

"""
# Outside an `if __name__ == "__main__"` guard: uvicorn's new process runs the script again
# (as __mp_main__), and this call must return there instead of serving again.
CALL = "app.run(port=PORT, debug=True, threaded=True)\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(sys.platform == "win32", reason="process groups")
def test_a_script_reloads_under_uvicorn(project: Path) -> None:
    """``python app.py`` with ``app.run(debug=True)``: uvicorn's reloader imports the
    script's app as ``__main__:app`` in a new process, which is in debug mode too."""
    port = _free_port()
    script = write(project / "app.py", (SCRIPT + CALL).replace("PORT", str(port)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROASGI_", "FLASK_"))}
    log_path = project / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the reloader's process goes in the same group
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert response.text == "debug=True"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    log = log_path.read_text()
    assert log.count(" * Serving microasgi app 'app'") == 1, log
    assert " * Debug mode: on" in log
    assert "Started reloader process" in log
    assert "Ignoring a call" not in log
