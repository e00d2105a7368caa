"""URL routing: Flask's rule syntax, matching through one segment tree, URL building.

:class:`Map` (in :mod:`.map`) holds the rules (:mod:`.rules`) and matches
them through a segment tree (:mod:`.matcher`); ``Map.bind`` gives Werkzeug's
:class:`MapAdapter`, for whole URLs with subdomains or hosts. Converters
(``int``, ``path``, ``uuid``, custom ones) are in :mod:`.converters`. Part of
the setup core: no I/O, nothing of the serving layer.
"""

from __future__ import annotations

from .converters import BaseConverter
from .map import BuildError, Map, MapAdapter
from .rules import Rule

__all__ = ["BaseConverter", "BuildError", "Map", "MapAdapter", "Rule"]
