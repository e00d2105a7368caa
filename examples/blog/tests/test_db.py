"""The database connection and the ``init-db`` command."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest

from examples.blog.db import get_db
from microasgi import Flask, g
from microasgi.testing import CliRunner


def test_get_db_is_one_connection_per_app_context(app: Flask) -> None:
    with app.app_context():
        db = get_db()
        assert get_db() is db

    # The teardown closed it.
    with pytest.raises(sqlite3.ProgrammingError) as e:
        db.execute("SELECT 1")
    assert "closed" in str(e.value)


def test_app_context_without_database_closes_nothing(app: Flask) -> None:
    with app.app_context():
        assert "db" not in g


def test_rows_by_name_and_timestamps_as_datetimes(app: Flask) -> None:
    with app.app_context():
        post = get_db().execute("SELECT title, created FROM post").fetchone()
    assert post["title"] == "test title"
    assert post["created"] == datetime(2018, 1, 1)


def test_init_db_command_calls_init_db(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    class Recorder:
        called = False

    def fake_init_db() -> None:
        Recorder.called = True

    monkeypatch.setattr("examples.blog.db.init_db", fake_init_db)
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0
    assert "Initialized" in result.output
    assert Recorder.called


def test_init_db_command_empties_the_database(app: Flask, runner: CliRunner) -> None:
    # The `microasgi` command pushes an app context for every command; the
    # runner, like Flask's, only does so for commands made with `app.cli.command`.
    with app.app_context():
        result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0
    assert result.output == "Initialized the database.\n"
    with app.app_context():
        db = get_db()
        assert db.execute("SELECT COUNT(*) FROM user").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM post").fetchone()[0] == 0


def test_init_db_command_is_listed_in_help(runner: CliRunner) -> None:
    result = runner.invoke(args=["--help"])
    assert "init-db" in result.output
    assert "Clear the existing data and create new tables." in result.output
