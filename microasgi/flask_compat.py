"""The opt-in that makes ``import flask`` mean microasgi, for code you cannot edit.

Flask extensions and helper libraries say ``import flask`` and
``from flask.globals import request_ctx``. After :func:`install_as_flask`,
those imports give microasgi's own modules: ``flask`` *is* :mod:`microasgi`
and ``flask.<name>`` *is* ``microasgi.<name>``, the same module objects under
two names, so a monkeypatch through one name is seen through the other and
``isinstance`` and ``is`` checks agree.

Submodules are aliased lazily by a finder at the front of :data:`sys.meta_path`:
``import flask.ctx`` imports ``microasgi.ctx`` (if it is not imported yet) and
records it as ``flask.ctx`` too. A Flask module that microasgi does not have
fails with a :class:`ModuleNotFoundError` that names it.

Two ways to turn it on, both before anything imports Flask::

    import microasgi.as_flask            # first line of the app's entry module
    pytest -p microasgi.as_flask         # a test suite written for Flask
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ["install_as_flask"]

_ALIAS = "flask"
_TARGET = "microasgi"


def install_as_flask() -> None:
    """Make ``import flask`` and ``import flask.<module>`` give microasgi's modules.

    Call it (or ``import microasgi.as_flask``) before any code imports Flask;
    calling it again does nothing. Raises :class:`ImportError` if the real
    Flask is already imported: the two cannot share the name ``flask``.
    """
    _refuse_real_flask()
    if not any(isinstance(finder, _FlaskAlias) for finder in sys.meta_path):
        # First, so the ordinary path finder never loads microasgi's files a second
        # time under the flask.* names (a copy, which identity checks would tell apart).
        sys.meta_path.insert(0, _FlaskAlias())
    sys.modules[_ALIAS] = importlib.import_module(_TARGET)


def _refuse_real_flask() -> None:
    for name, module in list(sys.modules.items()):
        if name != _ALIAS and not name.startswith(_ALIAS + "."):
            continue
        if module is None or getattr(module, "__name__", "").partition(".")[0] == _TARGET:
            continue
        where = getattr(module, "__file__", None) or "an unknown location"
        raise ImportError(
            f"The real Flask is already imported ({name!r} from {where}), so `import flask`"
            " cannot be made to mean microasgi in this process. Turn the opt-in on before"
            " anything imports flask: make `import microasgi.as_flask` the first import of"
            " the app's entry module, or run pytest with `-p microasgi.as_flask`.",
            name=name,
        )


class _FlaskAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``flask`` and ``flask.*`` as the microasgi module of the same path."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _ALIAS and not fullname.startswith(_ALIAS + "."):
            return None
        real_name = _TARGET + fullname[len(_ALIAS) :]
        # Only locate it here: importing it happens in create_module, outside the
        # global import lock that find_spec runs under.
        real_spec = importlib.util.find_spec(real_name)
        if real_spec is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: `import flask` means microasgi here"
                f" (microasgi.as_flask), and microasgi has no {real_name!r}.",
                name=fullname,
            )
        spec = importlib.machinery.ModuleSpec(
            fullname, self, is_package=real_spec.submodule_search_locations is not None
        )
        spec.loader_state = real_name
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(spec.loader_state)
        # The import system now sets the alias spec on the module; exec_module puts
        # the module's own back, so microasgi.<name> still describes itself.
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        alias_spec = module.__spec__
        if alias_spec is not None and alias_spec.loader is self:
            module.__spec__ = alias_spec.loader_state
