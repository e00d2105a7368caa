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


class _Listened:
    """Whether a signal of the request path may have receivers: one test per request
    stands for seven. Kept up to date as receivers connect and disconnect; a weakly
    referenced receiver that dies leaves it true, which only costs the exact tests."""

    __slots__ = ("any",)

    def __init__(self) -> None:
        self.any = False


#: True while any of the request path's signals may have a receiver.
request_path_listened = _Listened()
_REQUEST_PATH = (
    request_started,
    request_finished,
    got_request_exception,
    request_tearing_down,
    appcontext_tearing_down,
    appcontext_pushed,
    appcontext_popped,
)


def _receivers_changed(signal: object, **kwargs: object) -> None:
    request_path_listened.any = any(signal.receivers for signal in _REQUEST_PATH)


for _signal in _REQUEST_PATH:
    _signal.receiver_connected.connect(_receivers_changed)
    _signal.receiver_disconnected.connect(_receivers_changed)
