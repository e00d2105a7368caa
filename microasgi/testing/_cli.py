"""The CLI runner: invokes an app's click commands in tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, cast

import click
import click.testing

from ..cli.discovery import ScriptInfo

if TYPE_CHECKING:
    from ..app import MicroASGI


class CliRunner(click.testing.CliRunner):
    """Invokes an app's commands in tests: ``app.test_cli_runner().invoke(args=["hello"])``.

    ``cli`` defaults to ``app.cli``; commands find the app through a :class:`ScriptInfo`.
    """

    def __init__(self, app: MicroASGI, **kwargs: Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(
        self,
        cli: click.Command | None = None,
        args: str | Sequence[str] | None = None,
        input: str | bytes | IO[Any] | None = None,
        env: Mapping[str, str | None] | None = None,
        catch_exceptions: bool | None = None,
        color: bool = False,
        **extra: Any,
    ) -> click.testing.Result:
        """Invoke ``cli`` (default ``app.cli``) with ``args``, as the command line would."""
        if cli is None:
            cli = cast(click.Command, self.app.cli)
        if "obj" not in extra:
            extra["obj"] = ScriptInfo(create_app=lambda: self.app)
        return super().invoke(cli, args, input, env, catch_exceptions, color, **extra)


#: Flask's name for the CLI runner.
FlaskCliRunner = CliRunner
