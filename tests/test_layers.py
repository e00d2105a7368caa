"""The layering check (tests/layers.py) holds for microasgi, and catches a bad import."""

from __future__ import annotations

from pathlib import Path

import pytest

from .layers import PACKAGE, layer_of, violations


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert violations() == []


def test_the_layers_are_as_the_folders_show() -> None:
    assert layer_of("sansio.app") == layer_of("routing.map") == layer_of("config") == 0
    assert layer_of("app") == layer_of("wrappers.request") == layer_of("bridge") == 1
    assert layer_of("testing") == layer_of("cli.discovery") == 2


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "microasgi"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    "source",
    [
        "from ..app import MicroASGI\n",  # at module level
        "def f():\n    from ..wrappers.request import Request\n",  # hidden in a function
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..bridge import run_io\n",
        "import microasgi.testing\n",  # absolute, to the tools
    ],
)
def test_a_core_module_importing_upward_is_reported(tmp_path: Path, source: str) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "app.py": "",
            "bridge.py": "",
            "testing.py": "",
            "wrappers/__init__.py": "",
            "wrappers/request.py": "",
            "sansio/__init__.py": "",
            "sansio/plans.py": source,
            "sansio/fine.py": "from ..config import X\nfrom . import plans\n",
            "config.py": "",
        },
    )
    (problem,) = violations(root)
    assert problem.startswith("microasgi/sansio/plans.py:")
    assert "sansio.plans (core) imports" in problem


def test_the_real_package_is_what_is_checked() -> None:
    assert (PACKAGE / "sansio" / "app.py").exists()
