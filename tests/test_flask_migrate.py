"""A Flask extension's commands on microasgi's CLI: Flask-Migrate's ``db`` group, for real.

Flask-Migrate registers ``db`` through the ``flask.commands`` entry point and
runs Alembic inside the app context; with the ``import flask`` opt-in, the app
below is Flask-Migrate's own documented example with nothing changed but that
first import.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

APP = """
import microasgi.as_flask  # noqa: F401  (first: `import flask` is microasgi from here on)
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///app.db"
db = SQLAlchemy(app)
Migrate(app, db)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50))
"""


def _microasgi(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "microasgi.cli", "--app", "app", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_flask_migrate_db_init_migrate_upgrade(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    _microasgi(tmp_path, "db", "init")
    assert (tmp_path / "migrations" / "env.py").exists()
    assert "Detected added table 'user'" in _microasgi(tmp_path, "db", "migrate", "-m", "first")
    _microasgi(tmp_path, "db", "upgrade")
    with sqlite3.connect(tmp_path / "instance" / "app.db") as db:
        tables = {name for (name,) in db.execute("select name from sqlite_master")}
    assert {"alembic_version", "user"} <= tables
