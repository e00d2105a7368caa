"""Blueprints as they serve: the setup core's :class:`~microasgi.sansio.blueprints.Blueprint`
with what serving adds, as Flask's ``blueprints`` module does: its static files,
and its ``cli`` commands running in the app's context.

How a blueprint is set up and registered (prefixes, nesting, scoped hooks and
handlers) is in :mod:`microasgi.sansio.blueprints`.
"""

from __future__ import annotations

from .commands import AppGroup
from .files import FileResponse, send_file_max_age, send_static_file
from .files import send_from_directory as send_from_directory
from .globals import current_app
from .sansio.blueprints import Blueprint as SansioBlueprint
from .sansio.blueprints import BlueprintSetupState

__all__ = ["Blueprint", "BlueprintSetupState"]


class Blueprint(SansioBlueprint):
    """A group of routes and hooks registered on an app at a prefix.

    ::

        bp = Blueprint("admin", __name__, url_prefix="/admin")

        @bp.get("/")
        async def dashboard():
            return "admin home"

        app.register_blueprint(bp)        # GET /admin/ -> endpoint "admin.dashboard"
    """

    def make_cli_group(self, name: str) -> AppGroup:
        """``bp.cli``: an :class:`AppGroup`, whose commands run in the app's context."""
        return AppGroup(name)

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """Cache lifetime (seconds) for a static file: the app's ``SEND_FILE_MAX_AGE_DEFAULT``."""
        return send_file_max_age(current_app.config["SEND_FILE_MAX_AGE_DEFAULT"])

    def send_static_file(self, filename: str) -> FileResponse:
        """The view behind this blueprint's ``static`` endpoint."""
        return send_static_file(self, filename)
