"""Every ```python block in docs/ runs, in order, one namespace per page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
PAGES = sorted(DOCS.glob("*.md"))


def test_docs_have_snippets() -> None:
    assert sum(len(BLOCK.findall(page.read_text())) for page in PAGES) >= 10


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_snippets_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    saved_environ = dict(os.environ)
    try:
        for number, block in enumerate(BLOCK.findall(page.read_text()), 1):
            # dont_inherit: a snippet runs as a module would, without this file's
            # `from __future__ import annotations` (msgspec resolves Struct hints eagerly).
            code = compile(block, f"{page.name}:block{number}", "exec", dont_inherit=True)
            exec(code, namespace)
    finally:
        # Snippets may set environment variables (configuration.md does).
        os.environ.clear()
        os.environ.update(saved_environ)
