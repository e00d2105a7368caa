"""Importing this module makes ``import flask`` mean microasgi (:func:`install_as_flask`).

The one-line opt-in, for the first line of an app's entry module::

    import microasgi.as_flask  # noqa: F401  (before anything imports flask)

and, as it is also a (hook-less) pytest plugin, for running a test suite
written for Flask against microasgi::

    pytest -p microasgi.as_flask

See :mod:`microasgi.flask_compat` for what it does, and docs/migrating.md.
"""

from __future__ import annotations

from .flask_compat import install_as_flask

install_as_flask()
