"""The extensions ``make compat`` runs: pinned sdists, and what their suites need.

To move an extension to a new release, change its version and sha256 (the
sdist's, as PyPI lists it) and check its test requirements against the
release's tox.ini / pyproject.toml / requirements files.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The real Flask every suite also runs against (the one microasgi's own tests use).
FLASK = "flask==3.1.3"

#: Installed beside every suite: a per-test timeout, so one hung test cannot stall a run.
HARNESS_REQUIRES = ("pytest", "pytest-timeout")

#: microasgi's test client imports httpx, which a plain install of microasgi lacks today
#: (issue 14, point 10); installed here so the suites measure the extensions, not that.
MICROASGI_EXTRAS = ("httpx",)


@dataclass(frozen=True)
class Extension:
    """One extension: its sdist on PyPI, and how to run the suite inside it."""

    name: str
    version: str
    sha256: str
    #: Test requirements from the release's own files (leaving out coverage and
    #: packages that need a C library or a service this machine lacks).
    test_requires: tuple[str, ...] = ()
    #: Paths passed to pytest, relative to the unpacked sdist.
    test_paths: tuple[str, ...] = ("tests",)
    #: Where the test requirements come from, and what was left out and why.
    note: str = ""
    #: More pytest options, for both runs.
    pytest_args: tuple[str, ...] = ()

    @property
    def requirement(self) -> str:
        """``name==version``, as pip takes it."""
        return f"{self.name}=={self.version}"


EXTENSIONS: tuple[Extension, ...] = (
    Extension(
        "Flask-Login",
        "0.6.3",
        "5e23d14a607ef12806c699590b89d0f0e0d67baeec599d75947bf9c147330333",
        test_requires=("asgiref", "blinker", "semantic-version"),
        note="requirements/tests.in, less coverage",
    ),
    Extension(
        "Flask-WTF",
        "1.3.0",
        "61d5dabc50c3df885c297dcbd80810443a5d632106c8a69cab8ce740f0cdd7cc",
        test_requires=("Flask-Babel", "flask-reuploaded"),
        note="pyproject.toml dependency groups test and test-babel",
    ),
    Extension(
        "Flask-Cors",
        "6.0.5",
        "30c5031552cd59f620ac0c8211dac45b345d3b2df310e7721879e4f46ef9c601",
        note="pyproject.toml dependency group dev: only pytest is needed to run the suite",
    ),
    Extension(
        "Flask-SQLAlchemy",
        "3.1.1",
        "e4b68bb881802dda1a7d878b2fc84c06d1ee57fb40b874d3dc97dabfa36b8312",
        # SQLAlchemy 2.1 breaks this release's MappedAsDataclass models (pallets-eco/
        # flask-sqlalchemy#1420): under Flask too, a third of the suite fails with it.
        test_requires=("blinker", "sqlalchemy<2.1"),
        note="requirements/tests.in, less coverage; SQLAlchemy below 2.1, which it predates",
    ),
    Extension(
        "Flask-Caching",
        "2.5.1",
        "f75b451fde3faac0e278da72263818134deca8c4ba6bb07b9b3b238991368dae",
        test_requires=("asgiref", "pytest-asyncio", "pytest-xprocess", "redis"),
        # The suite makes warnings errors, and pytest-asyncio warns while this is unset.
        pytest_args=("-o", "asyncio_default_fixture_loop_scope=function"),
        note=(
            "pyproject.toml dependency group tests, less pylibmc (it needs libmemcached to"
            " build); the Redis and Memcached tests start servers this machine lacks and skip"
        ),
    ),
    Extension(
        "Flask-Limiter",
        "4.1.1",
        "ca11608fc7eec43dcea606964ca07c3bd4ec1ae89043a0f67f717899a4f48106",
        test_requires=(
            "asgiref",
            "flask-restful",
            "flask-restx",
            "redis",
            "pymemcache",
            "pymongo",
            "hiro",
            "pytest-check",
            "pytest-mock",
            "lovely-pytest-docker",
            # The cli extra (the dev group installs it): the suite tests the CLI too.
            "rich>=12,<15",
        ),
        note=(
            "pyproject.toml dependency groups test and dev (rich, for the CLI), less coverage;"
            " the Redis, Memcached and MongoDB tests start services through Docker, which this"
            " machine lacks"
        ),
    ),
)
