"""``microasgi openapi``: print, write or check the app's OpenAPI spec.

``--check FILE`` is for CI: it exits 1 when the committed spec no longer
matches the routes (compared as data, so a reformatted file is not a change),
and shows how they differ.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any, cast

import click

from ..app import MicroASGI
from ..commands import with_appcontext
from ..globals import _cv_app

__all__ = ["openapi_command", "render_spec"]


def render_spec(spec: dict[str, Any], as_yaml: bool = False) -> str:
    """The spec as text: JSON indented by two, or YAML (PyYAML) in the spec's key order."""
    if not as_yaml:
        return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"
    yaml = _yaml()
    return str(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))


def _yaml() -> Any:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        raise click.UsageError(
            "--yaml needs PyYAML, which is not installed: pip install pyyaml (or leave"
            " out --yaml for JSON)."
        ) from None
    return yaml


def _load(path: Path, as_yaml: bool) -> Any:
    text = path.read_text(encoding="utf-8")
    if as_yaml or path.suffix in (".yaml", ".yml"):
        yaml = _yaml()
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise click.ClickException(f"{path} is not readable YAML: {exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise click.ClickException(f"{path} is not readable JSON: {exc}") from None


@click.command("openapi", short_help="Print, write or check the app's OpenAPI spec.")
@click.option("--yaml", "as_yaml", is_flag=True, help="YAML instead of JSON (needs PyYAML).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the spec to this file instead of printing it.",
)
@click.option(
    "--check",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Exit 1 if this committed spec differs from the app's (for CI).",
)
@with_appcontext
def openapi_command(as_yaml: bool, output: Path | None, check: Path | None) -> None:
    """Print the app's OpenAPI 3.1 spec (app.openapi()), write it with --output, or
    compare it with a committed file with --check."""
    if output is not None and check is not None:
        raise click.UsageError("Give --output (write the spec) or --check (compare), not both.")
    # Through JSON once: the spec as any reader of the file sees it (tuples as lists, ...).
    app = cast(MicroASGI, _cv_app.get().app)
    spec = json.loads(json.dumps(app.openapi()))
    text = render_spec(spec, as_yaml)
    if check is not None:
        committed = _load(check, as_yaml)
        if committed == spec:
            click.echo(f"{check} is up to date.", err=True)
            return
        diff = difflib.unified_diff(
            render_spec(committed, as_yaml).splitlines(),
            text.splitlines(),
            f"{check} (committed)",
            "app.openapi()",
            lineterm="",
        )
        click.echo("\n".join(diff), err=True)
        click.echo(
            f"{check} differs from the app's spec; update it with: microasgi openapi"
            f"{' --yaml' if as_yaml else ''} --output {check}",
            err=True,
        )
        click.get_current_context().exit(1)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote the OpenAPI spec to {output}.", err=True)
        return
    click.echo(text, nl=False)
