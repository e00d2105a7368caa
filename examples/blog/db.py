"""The SQLite database: one connection per app context, kept on ``g``."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import click

from microasgi import Flask, current_app, g

# Turn the `created TIMESTAMP` column back into a datetime when it is read
# (Python 3.12 deprecated the converter sqlite3 used to register for this).
sqlite3.register_converter("timestamp", lambda value: datetime.fromisoformat(value.decode()))


def get_db() -> sqlite3.Connection:
    """The connection for the current app context, opened on first use."""
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"], detect_types=sqlite3.PARSE_DECLTYPES)
        g.db.row_factory = sqlite3.Row
    return g.db  # type: ignore[no-any-return]


def close_db(e: BaseException | None = None) -> None:
    """Close the connection, if this app context opened one."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db() -> None:
    """Drop and recreate the tables."""
    db = get_db()
    with current_app.open_resource("schema.sql") as f:
        db.executescript(f.read().decode("utf8"))


@click.command("init-db")
def init_db_command() -> None:
    """Clear the existing data and create new tables."""
    init_db()
    click.echo("Initialized the database.")


def init_app(app: Flask) -> None:
    """Close the connection after each request and add the ``init-db`` command."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
