"""Sessions: a signed cookie by default (itsdangerous), pluggable as in Flask.

The session is a dict stored client-side, signed with ``SECRET_KEY`` (older
keys in ``SECRET_KEY_FALLBACKS`` still verify). A cookie that is tampered
with, truncated, expired or garbage opens as an empty session: never an
error. The cookie is sent only when the session changed (or, for permanent
sessions, on every request when ``SESSION_REFRESH_EACH_REQUEST``), and
``Vary: Cookie`` is added whenever the session was read.

A different store (server-side, in a database) is a subclass of
:class:`SessionInterface` assigned to ``app.session_interface``.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import CallbackDict as CallbackDict

from .json.tag import TaggedJSONSerializer

if TYPE_CHECKING:
    from .sansio.app import App
    from .wrappers.response import Response


class SessionMixin(MutableMapping[str, Any]):
    """What every session offers besides the dict interface."""

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser session (``PERMANENT_SESSION_LIFETIME``)."""
        return bool(self.get("_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    #: False for a session that cannot store anything (no ``SECRET_KEY``).
    new = False
    modified = True
    accessed = True


class SecureCookieSession(dict[str, Any], SessionMixin):
    """The default session: a dict that records whether it was read or changed."""

    modified = False
    accessed = False

    def __init__(self, initial: Any = None) -> None:
        super().__init__(initial or ())

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        if key not in self:
            self.modified = True
        return super().setdefault(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self.accessed = self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.accessed = self.modified = True
        super().__delitem__(key)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return super().__contains__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self.accessed = self.modified = True
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        self.accessed = self.modified = True
        return super().popitem()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.accessed = self.modified = True
        super().update(*args, **kwargs)

    def clear(self) -> None:
        self.accessed = self.modified = True
        super().clear()


class NullSession(SecureCookieSession):
    """The session when no ``SECRET_KEY`` is set: readable, but writing explains why not."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "The session is unavailable because no secret key was set. Set "
            "app.secret_key (or SECRET_KEY in the config) to a long random string."
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


class SessionInterface:
    """How sessions are loaded and saved; subclass it for another store.

    Override :meth:`open_session` (return a :class:`SessionMixin`, or ``None``
    to use a :class:`NullSession`) and :meth:`save_session` (set a cookie or
    write the store). Both are synchronous and run wherever the request is
    handled, as in Flask.
    """

    null_session_class = NullSession
    #: Flask's flag for stores that pickle the session (not the cookie: JSON).
    pickle_based = False

    def make_null_session(self, app: App) -> NullSession:
        """A new ``null_session_class``, used when :meth:`open_session` returns ``None``."""
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """Whether ``obj`` is a null session (a ``null_session_class`` instance)."""
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: App) -> str:
        """The session cookie's name: ``SESSION_COOKIE_NAME``."""
        return app.config["SESSION_COOKIE_NAME"]  # type: ignore[no-any-return]

    def get_cookie_domain(self, app: App) -> str | None:
        """The cookie's ``Domain``: ``SESSION_COOKIE_DOMAIN`` (``None``: the current host only)."""
        return app.config["SESSION_COOKIE_DOMAIN"]  # type: ignore[no-any-return]

    def get_cookie_path(self, app: App) -> str:
        """The cookie's ``Path``: ``SESSION_COOKIE_PATH``, else ``APPLICATION_ROOT``."""
        return app.config["SESSION_COOKIE_PATH"] or app.config["APPLICATION_ROOT"]  # type: ignore[no-any-return]

    def get_cookie_httponly(self, app: App) -> bool:
        """Whether the cookie is ``HttpOnly``: ``SESSION_COOKIE_HTTPONLY``."""
        return app.config["SESSION_COOKIE_HTTPONLY"]  # type: ignore[no-any-return]

    def get_cookie_secure(self, app: App) -> bool:
        """Whether the cookie is ``Secure`` (HTTPS only): ``SESSION_COOKIE_SECURE``."""
        return app.config["SESSION_COOKIE_SECURE"]  # type: ignore[no-any-return]

    def get_cookie_samesite(self, app: App) -> str | None:
        """The cookie's ``SameSite``: ``SESSION_COOKIE_SAMESITE`` (``None`` leaves it out)."""
        return app.config["SESSION_COOKIE_SAMESITE"]  # type: ignore[no-any-return]

    def get_cookie_partitioned(self, app: App) -> bool:
        """Whether the cookie is ``Partitioned`` (CHIPS): ``SESSION_COOKIE_PARTITIONED``."""
        return app.config["SESSION_COOKIE_PARTITIONED"]  # type: ignore[no-any-return]

    def get_expiration_time(self, app: App, session: SessionMixin) -> datetime | None:
        """Now plus ``PERMANENT_SESSION_LIFETIME`` for a permanent session, else ``None``."""
        if session.permanent:
            return datetime.now(timezone.utc) + app.permanent_session_lifetime
        return None

    def should_set_cookie(self, app: App, session: SessionMixin) -> bool:
        """Send the cookie when the session changed, or to refresh a permanent one."""
        return session.modified or (
            session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]
        )

    def open_session(self, app: App, request: Any) -> SessionMixin | None:
        """Load the session for ``request`` (``None``: use a null session); subclasses do it."""
        raise NotImplementedError()

    def save_session(self, app: App, session: SessionMixin, response: Response) -> None:
        """Store ``session`` at the end of the request (say, in a cookie); subclasses do it."""
        raise NotImplementedError()


#: The serializer of the default session cookie: Flask's tagged JSON, so a cookie
#: written by a Flask app with the same secret key opens unchanged after a port.
session_json_serializer = TaggedJSONSerializer()


class SecureCookieSessionInterface(SessionInterface):
    """The default: the whole session in a signed (not encrypted) cookie."""

    salt = "cookie-session"
    digest_method = staticmethod(hashlib.sha1)
    key_derivation = "hmac"
    serializer = session_json_serializer
    session_class = SecureCookieSession

    def get_signing_serializer(self, app: App) -> URLSafeTimedSerializer | None:
        """The cookie signer for ``SECRET_KEY`` (fallbacks verify), or ``None`` without a key."""
        if not app.secret_key:
            return None
        keys: list[str | bytes] = [app.secret_key]
        fallbacks = app.config["SECRET_KEY_FALLBACKS"]
        if fallbacks:
            # itsdangerous signs with the last key and verifies with all of them.
            keys = [*reversed(fallbacks), app.secret_key]
        return URLSafeTimedSerializer(
            keys,  # type: ignore[arg-type]
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )

    def open_session(self, app: App, request: Any) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = serializer.loads(value, max_age=max_age)
        except (BadSignature, ValueError, TypeError, UnicodeError):
            # Tampered, truncated, expired (SignatureExpired is a BadSignature)
            # or plain garbage: start afresh rather than fail the request.
            return self.session_class()
        return self.session_class(data if isinstance(data, dict) else None)

    def save_session(self, app: App, session: SessionMixin, response: Response) -> None:
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        secure = self.get_cookie_secure(app)
        partitioned = self.get_cookie_partitioned(app)
        samesite = self.get_cookie_samesite(app)
        httponly = self.get_cookie_httponly(app)

        if session.accessed:
            _vary_cookie(response)

        if not session:
            if session.modified:
                response.delete_cookie(
                    name, domain=domain, path=path, secure=secure,
                    partitioned=partitioned, samesite=samesite, httponly=httponly,
                )  # fmt: skip
                _vary_cookie(response)
            return

        if not self.should_set_cookie(app, session):
            return
        serializer = self.get_signing_serializer(app)
        assert serializer is not None  # a session with data was opened with a key
        value = serializer.dumps(dict(session))
        response.set_cookie(
            name, value, expires=self.get_expiration_time(app, session), httponly=httponly,
            domain=domain, path=path, secure=secure, partitioned=partitioned, samesite=samesite,
        )  # fmt: skip
        _vary_cookie(response)


def _vary_cookie(response: Response) -> None:
    """Add ``Cookie`` to the ``Vary`` header once."""
    current = response.headers.get("vary", "")
    if "cookie" not in current.lower():
        response.headers["Vary"] = f"{current}, Cookie" if current else "Cookie"
