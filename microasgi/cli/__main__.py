"""``python -m microasgi.cli``: the ``microasgi`` command."""

from microasgi.cli import main

main()
