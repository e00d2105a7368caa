"""The pet store: a small API written with typed views (see app.py and docs/api.md)."""
