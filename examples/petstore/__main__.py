"""``python -m examples.petstore``: serve the pet store on http://127.0.0.1:5000/ (see /docs)."""

from examples.petstore.app import app

if __name__ == "__main__":
    app.run()
