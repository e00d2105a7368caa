"""The layers of microasgi, and a check that no module imports a layer above its own.

DESIGN.md, "Layers": the *core* (setup, routing, configuration: no I/O, no event
loop, no thread, no context local), the *serving* layer on it (the ASGI app, the
wrappers, the bridge, contexts, files, websockets, the WSGI bridge), and the
*tools* on both (test clients, CLI). Every import counts: at module level, in a
function (a lazy import is a cycle hidden, not removed) and under
``TYPE_CHECKING``, but for the few listed in :data:`ALLOWED`, each with its reason.

``python -m tests.layers`` prints the violations; ``make lint`` runs it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "microasgi"

CORE, SERVING, TOOLS, PUBLIC = 0, 1, 2, 3
NAMES = {CORE: "core", SERVING: "serving", TOOLS: "tools", PUBLIC: "public API"}

#: Modules by layer; a package name stands for its modules (``routing`` -> ``routing.*``).
LAYERS: dict[str, int] = {
    "typing": CORE,
    "exceptions": CORE,
    "config": CORE,
    "routing": CORE,
    "converters": CORE,
    "sansio": CORE,
    "json.provider": CORE,
    "signals": CORE,
    "logging": CORE,
    # Typed views: markers, compiling a signature, models, problem details (no I/O).
    "typed": CORE,
    "testing": TOOLS,
    "cli": TOOLS,
    "discovery": TOOLS,
    "__init__": PUBLIC,
    # `import flask` as the whole package (microasgi.flask_compat, and as_flask which runs it).
    "flask_compat": PUBLIC,
    "as_flask": PUBLIC,
}

#: Upward imports that are meant, and why (importer, imported).
ALLOWED: dict[tuple[str, str], str] = {
    ("app", "testing"): "app.test_client() hands out the tool, as Flask's does (imported on"
    " use, and for its return type)",
}


def layer_of(module: str) -> int:
    """The layer of ``module`` (dotted, relative to the package): serving unless listed."""
    parts = module.split(".")
    for size in range(len(parts), 0, -1):
        layer = LAYERS.get(".".join(parts[:size]))
        if layer is not None:
            return layer
    return SERVING


def module_name(path: Path, root: Path) -> str:
    relative = path.relative_to(root).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def imports(path: Path, root: Path) -> Iterator[tuple[str, int]]:
    """``(module, line)`` for every import of the package's own modules in ``path``."""
    name = module_name(path, root)
    package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    if name == "__init__":
        package = []
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module and node.module.startswith(root.name + "."):
                    base = node.module[len(root.name) + 1 :]
                    yield from _targets(base, node, root)
                continue
            anchor = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            base = ".".join([*anchor, node.module] if node.module else anchor)
            yield from _targets(base, node, root)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(root.name + "."):
                    yield alias.name[len(root.name) + 1 :], node.lineno


def _targets(base: str, node: ast.ImportFrom, root: Path) -> Iterator[tuple[str, int]]:
    # `from . import views` names a module; `from .app import MicroASGI` a name in one.
    for alias in node.names:
        candidate = f"{base}.{alias.name}" if base else alias.name
        as_path = root.joinpath(*candidate.split("."))
        if as_path.with_suffix(".py").exists() or (as_path / "__init__.py").exists():
            yield candidate, node.lineno
        else:
            yield base, node.lineno


def violations(root: Path = PACKAGE) -> list[str]:
    """Every import of a module in a higher layer than the importer's, as text."""
    found = []
    for path in sorted(root.rglob("*.py")):
        importer = module_name(path, root)
        for imported, line in imports(path, root):
            if not imported or layer_of(imported) <= layer_of(importer):
                continue
            key = (importer.split(".")[0], imported.split(".")[0])
            if key in ALLOWED:
                continue
            found.append(
                f"{path.relative_to(root.parent)}:{line}: {importer} ({NAMES[layer_of(importer)]})"
                f" imports {imported} ({NAMES[layer_of(imported)]})"
            )
    return found


if __name__ == "__main__":
    problems = violations()
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)
