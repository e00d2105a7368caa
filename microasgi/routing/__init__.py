"""URL routing: Flask's rule syntax, matching through one segment tree, URL building.

:class:`Map` (in :mod:`.map`) holds the rules; converters (``int``, ``path``,
``uuid``, custom ones) are in :mod:`.converters`. Part of the setup core: no
I/O, nothing of the serving layer.
"""

from __future__ import annotations

from .converters import BaseConverter
from .map import BuildError, Map, Rule

__all__ = ["BaseConverter", "BuildError", "Map", "Rule"]
