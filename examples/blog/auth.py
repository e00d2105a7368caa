"""Registering, logging in and out, and the ``login_required`` decorator."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from microasgi import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .db import get_db
from .security import check_password, hash_password

bp = Blueprint("auth", __name__, url_prefix="/auth")

F = TypeVar("F", bound=Callable[..., Any])


def login_required(view: F) -> F:
    """Send anonymous visitors to the login page instead of running ``view``."""

    @functools.wraps(view)
    def wrapped_view(**kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("auth.login"))
        return view(**kwargs)

    return wrapped_view  # type: ignore[return-value]


@bp.before_app_request
def load_logged_in_user() -> None:
    """Put the logged-in user's row (or None) on ``g.user`` before every request."""
    user_id = session.get("user_id")
    if user_id is None:
        g.user = None
    else:
        g.user = get_db().execute("SELECT * FROM user WHERE id = ?", (user_id,)).fetchone()


@bp.route("/register", methods=("GET", "POST"))
def register() -> Any:
    if request.method == "POST":
        username = request.form["username"].strip()
        password = request.form["password"]
        db = get_db()
        error = None

        if not username:
            error = "Username is required."
        elif not password:
            error = "Password is required."

        if error is None:
            try:
                db.execute(
                    "INSERT INTO user (username, password) VALUES (?, ?)",
                    (username, hash_password(password)),
                )
                db.commit()
            except db.IntegrityError:
                error = f"User {username} is already registered."
            else:
                flash(f"Welcome, {username}! You can log in now.")
                return redirect(url_for("auth.login"))

        flash(error)

    return render_template("auth/register.html")


@bp.route("/login", methods=("GET", "POST"))
def login() -> Any:
    if request.method == "POST":
        username = request.form["username"].strip()
        password = request.form["password"]
        user = get_db().execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()

        # One message for both mistakes: it does not tell who has an account.
        if user is None or not check_password(user["password"], password):
            flash("Incorrect username or password.")
        else:
            session.clear()
            session["user_id"] = user["id"]
            flash(f"Logged in as {user['username']}.")
            return redirect(url_for("blog.index"))

    return render_template("auth/login.html")


@bp.route("/logout", methods=("POST",))
def logout() -> Any:
    session.clear()
    flash("Logged out.")
    return redirect(url_for("blog.index"))
