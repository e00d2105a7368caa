"""The application factory and where the configuration comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from examples.blog import create_app


def test_config() -> None:
    assert not create_app().testing
    assert create_app({"TESTING": True}).testing


def test_defaults(instance_path: Path) -> None:
    app = create_app()
    assert app.config["SECRET_KEY"] == "dev"
    assert app.instance_path == str(instance_path)
    assert app.config["DATABASE"] == str(instance_path / "blog.sqlite")
    assert instance_path.is_dir()  # created by the factory


def test_instance_config_file_overrides_defaults(instance_path: Path) -> None:
    instance_path.mkdir()
    (instance_path / "config.py").write_text('SECRET_KEY = "from the instance folder"\n')
    assert create_app().config["SECRET_KEY"] == "from the instance folder"


def test_environment_overrides_config_file(
    instance_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance_path.mkdir()
    (instance_path / "config.py").write_text('SECRET_KEY = "from the instance folder"\n')
    monkeypatch.setenv("MICROASGI_SECRET_KEY", "from the environment")
    assert create_app().config["SECRET_KEY"] == "from the environment"


def test_test_config_skips_file_and_environment(
    instance_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance_path.mkdir()
    (instance_path / "config.py").write_text('SECRET_KEY = "from the instance folder"\n')
    monkeypatch.setenv("MICROASGI_SECRET_KEY", "from the environment")
    app = create_app({"TESTING": True})
    assert app.config["SECRET_KEY"] == "dev"
