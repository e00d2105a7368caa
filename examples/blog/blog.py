"""The posts: everyone reads them, their author edits and deletes them."""

from __future__ import annotations

import sqlite3
from typing import Any

from microasgi import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from .auth import login_required
from .db import get_db

bp = Blueprint("blog", __name__)


@bp.route("/")
def index() -> str:
    """Every post, newest first."""
    posts = (
        get_db()
        .execute(
            "SELECT p.id, title, body, created, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id"
            " ORDER BY created DESC, p.id DESC"
        )
        .fetchall()
    )
    return render_template("blog/index.html", posts=posts)


def get_post(id: int, check_author: bool = True) -> sqlite3.Row:
    """The post ``id`` with its author's name: 404 if it does not exist,
    403 if ``check_author`` and the current user did not write it."""
    post = (
        get_db()
        .execute(
            "SELECT p.id, title, body, created, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id"
            " WHERE p.id = ?",
            (id,),
        )
        .fetchone()
    )

    if post is None:
        abort(404, f"Post id {id} doesn't exist.")

    if check_author and post["author_id"] != g.user["id"]:
        abort(403)

    return post  # type: ignore[no-any-return]


def _read_form() -> tuple[str, str, str | None]:
    """The title and body from the form, and what is wrong with them (or None)."""
    title = request.form["title"].strip()
    body = request.form["body"]
    error = None
    if not title:
        error = "Title is required."
    return title, body, error


@bp.route("/create", methods=("GET", "POST"))
@login_required
def create() -> Any:
    if request.method == "POST":
        title, body, error = _read_form()
        if error is not None:
            flash(error)
        else:
            db = get_db()
            db.execute(
                "INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)",
                (title, body, g.user["id"]),
            )
            db.commit()
            flash(f'Published "{title}".')
            return redirect(url_for("blog.index"))

    return render_template("blog/create.html")


@bp.route("/<int:id>/update", methods=("GET", "POST"))
@login_required
def update(id: int) -> Any:
    post = get_post(id)

    if request.method == "POST":
        title, body, error = _read_form()
        if error is not None:
            flash(error)
        else:
            db = get_db()
            db.execute("UPDATE post SET title = ?, body = ? WHERE id = ?", (title, body, id))
            db.commit()
            flash(f'Saved "{title}".')
            return redirect(url_for("blog.index"))

    return render_template("blog/update.html", post=post)


@bp.route("/<int:id>/delete", methods=("POST",))
@login_required
def delete(id: int) -> Any:
    post = get_post(id)
    db = get_db()
    db.execute("DELETE FROM post WHERE id = ?", (id,))
    db.commit()
    flash(f'Deleted "{post["title"]}".')
    return redirect(url_for("blog.index"))
