"""Small real WSGI apps (Flask, Django) that tests run behind ``WSGIApp``."""
