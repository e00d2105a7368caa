"""A small multi-user blog, written the way a Flask user writes one.

Run it from the repository root::

    microasgi --app "examples.blog:create_app()" init-db
    microasgi --app "examples.blog:create_app()" run --debug

See README.md for the details.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from microasgi import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build and configure the app (the application factory)."""
    # BLOG_INSTANCE_PATH moves the instance folder (database, config.py)
    # somewhere else, for instance a temporary folder; it must be absolute.
    app = Flask(
        __name__,
        instance_path=os.environ.get("BLOG_INSTANCE_PATH"),
        instance_relative_config=True,
    )
    app.config.from_mapping(
        # "dev" is only for development: set a random key in instance/config.py.
        SECRET_KEY="dev",
        DATABASE=os.path.join(app.instance_path, "blog.sqlite"),
    )

    if test_config is None:
        # The instance config, if there is one, overrides the defaults;
        # then MICROASGI_* environment variables (MICROASGI_SECRET_KEY=...).
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env()
    else:
        app.config.from_mapping(test_config)

    os.makedirs(app.instance_path, exist_ok=True)

    from . import auth, blog, db

    db.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)

    return app
