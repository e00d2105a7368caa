"""Long-running fuzzing of the ASGI request path (not collected by pytest)."""
