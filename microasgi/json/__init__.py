"""JSON: Flask's module-level helpers over the current app's provider (``app.json``).

The provider classes are in :mod:`microasgi.json.provider`; the tagged JSON
the session cookie uses is in :mod:`microasgi.json.tag`.
"""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any, cast

from ..globals import _cv_app
from ..globals import current_app as current_app
from .provider import DefaultJSONProvider, JSONProvider, _default

if TYPE_CHECKING:
    from ..wrappers.response import Response

__all__ = ["DefaultJSONProvider", "JSONProvider", "dump", "dumps", "jsonify", "load", "loads"]


def _app_or_none() -> Any:
    ctx = _cv_app.get(None)
    return None if ctx is None else ctx.app


def dumps(obj: Any, **kwargs: Any) -> str:
    """Serialise ``obj`` with ``current_app.json``, or stdlib json outside an app.

    Outside an app context the standard library is used with the same
    ``default`` handler as :class:`DefaultJSONProvider`.
    """
    app = _app_or_none()
    if app is not None:
        return app.json.dumps(obj, **kwargs)  # type: ignore[no-any-return]
    kwargs.setdefault("default", _default)
    return json.dumps(obj, **kwargs)


def dump(obj: Any, fp: IO[str], **kwargs: Any) -> None:
    """Serialise ``obj`` into the text file ``fp``, as :func:`dumps` does."""
    app = _app_or_none()
    if app is not None:
        app.json.dump(obj, fp, **kwargs)
        return
    kwargs.setdefault("default", _default)
    json.dump(obj, fp, **kwargs)


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """Parse JSON with ``current_app.json``, or stdlib json outside an app."""
    app = _app_or_none()
    if app is not None:
        return app.json.loads(s, **kwargs)
    return json.loads(s, **kwargs)


def load(fp: IO[Any], **kwargs: Any) -> Any:
    """Parse JSON from the file ``fp`` (text or binary), as :func:`loads` does."""
    app = _app_or_none()
    if app is not None:
        return app.json.load(fp, **kwargs)
    return json.load(fp, **kwargs)


def jsonify(*args: Any, **kwargs: Any) -> Response:
    """Return a JSON response built by ``current_app.json.response()``.

    ``jsonify(user)``, ``jsonify(1, 2)`` (a list) or ``jsonify(id=1)`` (a
    dict). Needs an app context; raises ``RuntimeError`` outside one.
    """
    app = _app_or_none()
    if app is None:
        raise RuntimeError(
            "Working outside of application context.\n\n"
            "jsonify() needs the current app to build its response. Call it from"
            " a view, or inside 'with app.app_context():'."
        )
    return cast("Response", app.json.response(*args, **kwargs))  # the serving app's class
