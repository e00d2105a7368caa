"""Click groups whose commands run inside the app's context: ``app.cli`` is an :class:`AppGroup`.

The ``microasgi`` command (:mod:`microasgi.cli`) loads the app and puts the
object that loaded it (a ``ScriptInfo``, an :class:`AppLoader`) in click's
context, where :func:`with_appcontext` finds it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast, overload, runtime_checkable

import anyio
import click

from .globals import _cv_app

if TYPE_CHECKING:
    from .sansio.app import App

__all__ = ["AppGroup", "AppLoader", "with_appcontext"]

F = TypeVar("F", bound=Callable[..., Any])


@runtime_checkable
class AppLoader(Protocol):
    """What loads the app for a command (the CLI's ``ScriptInfo``)."""

    def load_app(self) -> App:
        """The app, imported or made on first call."""


def with_appcontext(f: F) -> F:
    """Run the click command callback ``f`` inside the app's context, unless one is
    active already: the app the ``microasgi`` command loaded (its ``ScriptInfo``)."""

    @click.pass_context
    def run_in_app_context(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        if _cv_app.get(None) is None:
            loader = ctx.find_object(AppLoader)  # type: ignore[type-abstract]
            if loader is None:
                raise click.UsageError(
                    "This command needs the app: run it through the 'microasgi' command"
                    " (microasgi --app module:app ...) or app.test_cli_runner()."
                )
            ctx.with_resource(loader.load_app().app_context())
        return ctx.invoke(f, *args, **kwargs)

    return cast(F, functools.update_wrapper(run_in_app_context, f))


def _run_coroutine_function(f: F) -> F:
    """Let an ``async def`` command run: click only calls functions."""
    if not inspect.iscoroutinefunction(f):
        return f

    def run(*args: Any, **kwargs: Any) -> Any:
        return anyio.run(functools.partial(f, *args, **kwargs))

    return cast(F, functools.update_wrapper(run, f))


class AppGroup(click.Group):
    """A click group whose commands run inside the app context; ``app.cli`` is one.

    ``@group.command(with_appcontext=False)`` opts a command out; ``async def``
    commands are run on an event loop; subgroups are ``AppGroup`` too.
    """

    @overload
    def command(self, __func: Callable[..., Any]) -> click.Command: ...

    @overload
    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Command]: ...

    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Command] | click.Command:
        """Like :meth:`click.Group.command`, with ``with_appcontext=True`` by default."""
        if len(args) == 1 and not kwargs and callable(args[0]):
            return self.command()(args[0])
        wrap = kwargs.pop("with_appcontext", True)

        def decorator(f: Callable[..., Any]) -> click.Command:
            f = _run_coroutine_function(f)
            if wrap:
                f = with_appcontext(f)
            make = click.Group.command(self, *args, **kwargs)
            return cast(Callable[[Callable[..., Any]], click.Command], make)(f)

        return decorator

    @overload
    def group(self, __func: Callable[..., Any]) -> click.Group: ...

    @overload
    def group(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Group]: ...

    def group(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Group] | click.Group:
        """Like :meth:`click.Group.group`, making an :class:`AppGroup` by default."""
        if len(args) == 1 and not kwargs and callable(args[0]):
            return self.group()(args[0])
        if kwargs.get("cls") is None:
            kwargs["cls"] = AppGroup
        return cast(Callable[[Callable[..., Any]], click.Group], super().group(*args, **kwargs))
