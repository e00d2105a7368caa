"""The setup core: what an app and its blueprints are before they serve.

Registration (routes, hooks, error handlers, blueprints, mounts), configuration
and route plans. Nothing here does I/O, starts an event loop or a thread, or
reads a context local; it imports nothing from the serving layer above it
(``microasgi.app``, the wrappers, the bridge) nor from the tools (the test
clients, the CLI). ``tests/test_layers.py`` keeps it so.
"""
