"""``make compat``: Flask extensions' own test suites, under Flask and under microasgi.

``python -m tests.compat`` downloads each extension's sdist (pinned version and
sha256, :mod:`.extensions`), builds one virtual environment per extension in
``.compat/`` with the extension, its test requirements, the real Flask and
microasgi (editable), runs the extension's suite twice in it (plainly, then
with ``-p microasgi.as_flask`` so that ``import flask`` is microasgi) and writes
the comparison to docs/compatibility.md (:mod:`.report`).

It needs the network to PyPI and is not part of ``make test``: no module here
is named ``test_*``.
"""
