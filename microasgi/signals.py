"""Flask's signals, over blinker: the same names, sent at the same points.

Connect a receiver to be told when something happens; it gets the sender (the
app) and keyword arguments, as in Flask::

    from microasgi.signals import template_rendered

    def record(sender, template, context, **extra):
        ...

    template_rendered.connect(record, app)

Each is sent only when it has receivers, so an app that connects none pays
nothing for them. Async receivers are run through ``app.ensure_sync``, as
Flask runs them. Extensions define their own signals in their own
:class:`Namespace`.

=========================== ========================= =============================
signal                      sent                      keyword arguments
=========================== ========================= =============================
``request_started``         before the request hooks  (none)
``request_finished``        after the after-hooks     ``response``
``got_request_exception``   an unhandled exception    ``exception``
``request_tearing_down``    teardown of a request     ``exc``
``appcontext_tearing_down`` teardown of a context     ``exc``
``appcontext_pushed``       a context becomes current (none)
``appcontext_popped``       a context ends            (none)
``before_render_template``  before a template renders ``template``, ``context``
``template_rendered``       after it rendered         ``template``, ``context``
``message_flashed``         :func:`~microasgi.flash`  ``message``, ``category``
=========================== ========================= =============================
"""

from __future__ import annotations

from blinker import Namespace

__all__ = [
    "Namespace",
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "got_request_exception",
    "message_flashed",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "template_rendered",
]

# microasgi's own signals; the names are Flask's, so receivers written for Flask match.
_signals = Namespace()

template_rendered = _signals.signal("template-rendered")
before_render_template = _signals.signal("before-render-template")
request_started = _signals.signal("request-started")
request_finished = _signals.signal("request-finished")
request_tearing_down = _signals.signal("request-tearing-down")
got_request_exception = _signals.signal("got-request-exception")
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
appcontext_pushed = _signals.signal("appcontext-pushed")
appcontext_popped = _signals.signal("appcontext-popped")
message_flashed = _signals.signal("message-flashed")
