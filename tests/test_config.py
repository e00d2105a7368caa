from __future__ import annotations

import importlib
import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from microasgi.config import DEFAULT_CONFIG, Config, ConfigAttribute


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(tmp_path)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Drop any MICROASGI_* variables the outer environment might carry."""
    for key in list(os.environ):
        if key.startswith(("MICROASGI_", "MYAPP_")):
            monkeypatch.delenv(key)
    yield monkeypatch


@pytest.fixture
def make_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, str], None]]:
    """Write an importable (dotted) module into tmp_path; forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    top_names: set[str] = set()

    def make(name: str, source: str) -> None:
        *packages, module = name.split(".")
        directory = tmp_path
        for package in packages:
            directory = directory / package
            directory.mkdir(exist_ok=True)
            (directory / "__init__.py").touch()
        (directory / f"{module}.py").write_text(textwrap.dedent(source))
        top_names.add(name.split(".")[0])
        importlib.invalidate_caches()

    yield make
    for loaded in list(sys.modules):
        if loaded.split(".")[0] in top_names:
            del sys.modules[loaded]


# --- construction and repr -------------------------------------------------


def test_config_is_a_dict_with_defaults(tmp_path: Path) -> None:
    config = Config(tmp_path, {"A": 1})
    assert isinstance(config, dict)
    assert config == {"A": 1}
    assert config.root_path == tmp_path


def test_defaults_are_copied_not_shared(tmp_path: Path) -> None:
    config = Config(tmp_path, DEFAULT_CONFIG)
    config["DEBUG"] = True
    assert DEFAULT_CONFIG["DEBUG"] is False


def test_empty_without_defaults(config: Config) -> None:
    assert config == {}


def test_repr(tmp_path: Path) -> None:
    assert repr(Config(tmp_path, {"A": 1})) == "<Config {'A': 1}>"


def test_repr_uses_subclass_name(tmp_path: Path) -> None:
    class MyConfig(Config):
        pass

    assert repr(MyConfig(tmp_path)) == "<MyConfig {}>"


def test_default_config_values() -> None:
    assert DEFAULT_CONFIG["DEBUG"] is False
    assert DEFAULT_CONFIG["TESTING"] is False
    assert DEFAULT_CONFIG["SECRET_KEY"] is None
    assert DEFAULT_CONFIG["SECRET_KEY_FALLBACKS"] is None
    assert DEFAULT_CONFIG["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31)
    assert DEFAULT_CONFIG["APPLICATION_ROOT"] == "/"
    assert DEFAULT_CONFIG["SESSION_COOKIE_NAME"] == "session"
    assert DEFAULT_CONFIG["SESSION_COOKIE_HTTPONLY"] is True
    assert DEFAULT_CONFIG["SESSION_COOKIE_PARTITIONED"] is False
    assert DEFAULT_CONFIG["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024
    assert DEFAULT_CONFIG["MAX_FORM_MEMORY_SIZE"] == 500_000
    assert DEFAULT_CONFIG["MAX_FORM_PARTS"] == 1_000
    assert DEFAULT_CONFIG["PREFERRED_URL_SCHEME"] == "http"
    assert DEFAULT_CONFIG["MAX_COOKIE_SIZE"] == 4093
    assert DEFAULT_CONFIG["PROVIDE_AUTOMATIC_OPTIONS"] is True
    assert DEFAULT_CONFIG["BODY_MEMORY_LIMIT"] == 1024 * 1024
    assert DEFAULT_CONFIG["SYNC_THREAD_LIMIT"] == 40


def test_default_config_has_every_flask_key() -> None:
    expected = {
        "DEBUG",
        "TESTING",
        "PROPAGATE_EXCEPTIONS",
        "SECRET_KEY",
        "SECRET_KEY_FALLBACKS",
        "PERMANENT_SESSION_LIFETIME",
        "USE_X_SENDFILE",
        "TRUSTED_HOSTS",
        "SERVER_NAME",
        "APPLICATION_ROOT",
        "SESSION_COOKIE_NAME",
        "SESSION_COOKIE_DOMAIN",
        "SESSION_COOKIE_PATH",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_PARTITIONED",
        "SESSION_COOKIE_SAMESITE",
        "SESSION_REFRESH_EACH_REQUEST",
        "MAX_CONTENT_LENGTH",
        "MAX_FORM_MEMORY_SIZE",
        "MAX_FORM_PARTS",
        "MAX_QUERY_FIELDS",
        "SEND_FILE_MAX_AGE_DEFAULT",
        "TRAP_BAD_REQUEST_ERRORS",
        "TRAP_HTTP_EXCEPTIONS",
        "EXPLAIN_TEMPLATE_LOADING",
        "PREFERRED_URL_SCHEME",
        "TEMPLATES_AUTO_RELOAD",
        "MAX_COOKIE_SIZE",
        "PROVIDE_AUTOMATIC_OPTIONS",
        "BODY_MEMORY_LIMIT",
        "SYNC_THREAD_LIMIT",
        "SYNC_QUEUE_LIMIT",
        "GC_TUNING",
        "RESPONSE_VALIDATION",
        "DOCS_URL",
        "REDOC_URL",
        "OPENAPI_URL",
        "API_TITLE",
        "API_VERSION",
        "API_DESCRIPTION",
    }
    assert set(DEFAULT_CONFIG) == expected


# --- from_mapping ----------------------------------------------------------


def test_from_mapping_takes_uppercase_keys_only(config: Config) -> None:
    assert config.from_mapping({"SECRET_KEY": "dev", "lower": 1, "Mixed": 2}) is True
    assert config == {"SECRET_KEY": "dev"}


def test_from_mapping_kwargs_override_mapping(config: Config) -> None:
    config.from_mapping({"A": 1, "B": 2}, B=3, c=4)
    assert config == {"A": 1, "B": 3}


def test_from_mapping_without_arguments(config: Config) -> None:
    assert config.from_mapping() is True
    assert config == {}


def test_from_mapping_overwrites_existing(tmp_path: Path) -> None:
    config = Config(tmp_path, {"DEBUG": False})
    config.from_mapping(DEBUG=True)
    assert config["DEBUG"] is True


# --- from_object -----------------------------------------------------------


def test_from_object_class_uppercase_only(config: Config) -> None:
    class Settings:
        DEBUG = True
        SECRET_KEY = "k"
        not_a_setting = 1
        _PRIVATE_lower = 2

    config.from_object(Settings)
    assert config == {"DEBUG": True, "SECRET_KEY": "k"}


def test_from_object_instance_sees_properties(config: Config) -> None:
    class Settings:
        @property
        def DATABASE_URI(self) -> str:
            return "sqlite://"

    config.from_object(Settings())
    assert config["DATABASE_URI"] == "sqlite://"


def test_from_object_inherits_attributes(config: Config) -> None:
    class Base:
        DEBUG = False
        DB = "base"

    class Dev(Base):
        DEBUG = True

    config.from_object(Dev)
    assert config == {"DEBUG": True, "DB": "base"}


def test_from_object_module_import_string(
    config: Config, make_module: Callable[[str, str], None]
) -> None:
    make_module("cfgmod_a", "SECRET_KEY = 'from-module'\nhelper = 1\n")
    config.from_object("cfgmod_a")
    assert config == {"SECRET_KEY": "from-module"}


def test_from_object_colon_import_string(
    config: Config, make_module: Callable[[str, str], None]
) -> None:
    make_module(
        "cfgpkg_b.settings",
        """
        class Production:
            DEBUG = False
            SERVER_NAME = "example.com"
        """,
    )
    config.from_object("cfgpkg_b.settings:Production")
    assert config == {"DEBUG": False, "SERVER_NAME": "example.com"}


def test_from_object_dotted_import_string(
    config: Config, make_module: Callable[[str, str], None]
) -> None:
    make_module(
        "cfgpkg_c.settings",
        """
        class Dev:
            DEBUG = True
        """,
    )
    config.from_object("cfgpkg_c.settings.Dev")
    assert config == {"DEBUG": True}


def test_from_object_colon_nested_attribute(
    config: Config, make_module: Callable[[str, str], None]
) -> None:
    make_module(
        "cfgmod_d",
        """
        class Outer:
            class Inner:
                TESTING = True
        """,
    )
    config.from_object("cfgmod_d:Outer.Inner")
    assert config == {"TESTING": True}


def test_from_object_missing_module(config: Config) -> None:
    with pytest.raises(ImportError):
        config.from_object("no_such_module_microasgi_xyz")


def test_from_object_missing_attribute(
    config: Config, make_module: Callable[[str, str], None]
) -> None:
    make_module("cfgmod_e", "A = 1\n")
    with pytest.raises(ImportError, match="has no attribute 'Missing'"):
        config.from_object("cfgmod_e.Missing")
    with pytest.raises(ImportError, match="has no attribute 'Missing'"):
        config.from_object("cfgmod_e:Missing")


def test_from_object_broken_import_inside_module_surfaces(
    config: Config, make_module: Callable[[str, str], None]
) -> None:
    make_module("cfgpkg_f.settings", "import no_such_dependency_microasgi_xyz\n")
    with pytest.raises(ModuleNotFoundError) as info:
        config.from_object("cfgpkg_f.settings")
    assert info.value.name == "no_such_dependency_microasgi_xyz"


# --- from_pyfile -----------------------------------------------------------


def test_from_pyfile_loads_uppercase_names(config: Config, tmp_path: Path) -> None:
    (tmp_path / "settings.cfg").write_text(
        "import os\nSECRET_KEY = 'abc'\nDEBUG = True\nlocal = 'x'\nPORT = 40 + 2\n"
    )
    assert config.from_pyfile("settings.cfg") is True
    assert config == {"SECRET_KEY": "abc", "DEBUG": True, "PORT": 42}


def test_from_pyfile_sets_dunder_file(config: Config, tmp_path: Path) -> None:
    path = tmp_path / "settings.py"
    path.write_text("HERE = __file__\n")
    config.from_pyfile("settings.py")
    assert config["HERE"] == str(path)


def test_from_pyfile_absolute_path_ignores_root(tmp_path: Path) -> None:
    path = tmp_path / "abs.cfg"
    path.write_text("A = 1\n")
    config = Config(tmp_path / "elsewhere")
    assert config.from_pyfile(str(path)) is True
    assert config["A"] == 1


def test_from_pyfile_accepts_pathlike(config: Config, tmp_path: Path) -> None:
    (tmp_path / "p.cfg").write_text("A = 'p'\n")
    config.from_pyfile(Path("p.cfg"))
    assert config["A"] == "p"


def test_from_pyfile_missing_raises_with_filename(config: Config, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        config.from_pyfile("missing.cfg")
    message = str(info.value)
    assert "Unable to load configuration file (No such file or directory)" in message
    assert str(tmp_path / "missing.cfg") in message


def test_from_pyfile_missing_silent(config: Config) -> None:
    assert config.from_pyfile("missing.cfg", silent=True) is False
    assert config == {}


def test_from_pyfile_directory_silent(config: Config, tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    assert config.from_pyfile("adir", silent=True) is False


def test_from_pyfile_directory_not_silent(config: Config, tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    with pytest.raises(IsADirectoryError, match="Unable to load configuration file"):
        config.from_pyfile("adir")


def test_from_pyfile_through_a_file_silent(config: Config, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("")
    assert config.from_pyfile("plain/settings.cfg", silent=True) is False


def test_from_pyfile_syntax_error_names_file(config: Config, tmp_path: Path) -> None:
    (tmp_path / "bad.cfg").write_text("A = (\n")
    with pytest.raises(SyntaxError) as info:
        config.from_pyfile("bad.cfg", silent=True)
    assert info.value.filename == str(tmp_path / "bad.cfg")


def test_from_pyfile_runtime_error_propagates(config: Config, tmp_path: Path) -> None:
    (tmp_path / "boom.cfg").write_text("A = 1\nraise ValueError('boom')\n")
    with pytest.raises(ValueError, match="boom"):
        config.from_pyfile("boom.cfg")
    assert config == {}


# --- from_envvar -----------------------------------------------------------


def test_from_envvar_loads_named_file(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "env.cfg"
    path.write_text("SECRET_KEY = 'env'\n")
    monkeypatch.setenv("MYAPP_SETTINGS", str(path))
    assert config.from_envvar("MYAPP_SETTINGS") is True
    assert config["SECRET_KEY"] == "env"


def test_from_envvar_relative_to_root(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "rel.cfg").write_text("A = 'rel'\n")
    monkeypatch.setenv("MYAPP_SETTINGS", "rel.cfg")
    config.from_envvar("MYAPP_SETTINGS")
    assert config["A"] == "rel"


def test_from_envvar_unset_raises(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYAPP_SETTINGS", raising=False)
    with pytest.raises(RuntimeError, match="'MYAPP_SETTINGS' is not set"):
        config.from_envvar("MYAPP_SETTINGS")


def test_from_envvar_empty_raises(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYAPP_SETTINGS", "")
    with pytest.raises(RuntimeError, match="MYAPP_SETTINGS"):
        config.from_envvar("MYAPP_SETTINGS")


def test_from_envvar_unset_silent(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYAPP_SETTINGS", raising=False)
    assert config.from_envvar("MYAPP_SETTINGS", silent=True) is False


def test_from_envvar_missing_file_raises(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYAPP_SETTINGS", "missing.cfg")
    with pytest.raises(FileNotFoundError, match="Unable to load configuration file"):
        config.from_envvar("MYAPP_SETTINGS")


def test_from_envvar_missing_file_silent(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYAPP_SETTINGS", "missing.cfg")
    assert config.from_envvar("MYAPP_SETTINGS", silent=True) is False


# --- from_prefixed_env -----------------------------------------------------


def test_from_prefixed_env_strips_prefix_and_parses_json(
    config: Config, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("MICROASGI_STRING", "hello")
    clean_env.setenv("MICROASGI_INT", "42")
    clean_env.setenv("MICROASGI_FLOAT", "1.5")
    clean_env.setenv("MICROASGI_BOOL", "true")
    clean_env.setenv("MICROASGI_NULL", "null")
    clean_env.setenv("MICROASGI_LIST", "[1, 2]")
    clean_env.setenv("MICROASGI_DICT", '{"k": "v"}')
    clean_env.setenv("MICROASGI_QUOTED", '"42"')
    clean_env.setenv("OTHER_VALUE", "ignored")
    assert config.from_prefixed_env() is True
    assert config == {
        "STRING": "hello",
        "INT": 42,
        "FLOAT": 1.5,
        "BOOL": True,
        "NULL": None,
        "LIST": [1, 2],
        "DICT": {"k": "v"},
        "QUOTED": "42",
    }


def test_from_prefixed_env_needs_prefix_underscore(
    config: Config, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("MICROASGIX", "1")
    clean_env.setenv("MICROASGI", "1")
    config.from_prefixed_env()
    assert config == {}


def test_from_prefixed_env_custom_prefix(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MYAPP_SECRET_KEY", "s3cret")
    clean_env.setenv("MICROASGI_DEBUG", "true")
    config.from_prefixed_env("MYAPP")
    assert config == {"SECRET_KEY": "s3cret"}


def test_from_prefixed_env_custom_loads(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    def loads(value: str) -> Any:
        if value == "bad":
            raise ValueError(value)
        return value.upper()

    clean_env.setenv("MICROASGI_A", "good")
    clean_env.setenv("MICROASGI_B", "bad")
    config.from_prefixed_env(loads=loads)
    assert config == {"A": "GOOD", "B": "bad"}


def test_from_prefixed_env_keeps_case_of_key(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MICROASGI_lower_key", "1")
    config.from_prefixed_env()
    assert config == {"lower_key": 1}


def test_from_prefixed_env_overrides_existing(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    config = Config(tmp_path, DEFAULT_CONFIG)
    clean_env.setenv("MICROASGI_MAX_CONTENT_LENGTH", "null")
    clean_env.setenv("MICROASGI_SECRET_KEY", "abc")
    config.from_prefixed_env()
    assert config["MAX_CONTENT_LENGTH"] is None
    assert config["SECRET_KEY"] == "abc"


def test_from_prefixed_env_nested(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MICROASGI_DB__HOST", "localhost")
    clean_env.setenv("MICROASGI_DB__PORT", "5432")
    clean_env.setenv("MICROASGI_DB__OPTIONS__ssl", "true")
    config.from_prefixed_env()
    assert config == {"DB": {"HOST": "localhost", "PORT": 5432, "OPTIONS": {"ssl": True}}}


def test_from_prefixed_env_nested_updates_existing_dict(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    config = Config(tmp_path, {"DB": {"HOST": "old", "USER": "me"}})
    clean_env.setenv("MICROASGI_DB__HOST", "new")
    config.from_prefixed_env()
    assert config["DB"] == {"HOST": "new", "USER": "me"}


def test_from_prefixed_env_sorted_order(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    # Sorted: DB is set to a dict first, then DB__HOST goes inside it.
    clean_env.setenv("MICROASGI_DB__HOST", "inner")
    clean_env.setenv("MICROASGI_DB", '{"USER": "u"}')
    config.from_prefixed_env()
    assert config["DB"] == {"USER": "u", "HOST": "inner"}


def test_from_prefixed_env_nested_into_non_dict_raises(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    config = Config(tmp_path, {"DB": "sqlite://"})
    clean_env.setenv("MICROASGI_DB__HOST", "x")
    with pytest.raises(TypeError, match=r"MICROASGI_DB__HOST.*'DB' holds a str"):
        config.from_prefixed_env()


# --- from_file -------------------------------------------------------------


def test_from_file_json(config: Config, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"SECRET_KEY": "j", "lower": 1}))
    assert config.from_file("config.json", load=json.load) is True
    assert config == {"SECRET_KEY": "j"}


def test_from_file_binary_toml(config: Config, tmp_path: Path) -> None:
    tomllib = pytest.importorskip("tomllib")
    (tmp_path / "config.toml").write_text('SECRET_KEY = "t"\nDEBUG = true\n')
    assert config.from_file("config.toml", load=tomllib.load, text=False) is True
    assert config == {"SECRET_KEY": "t", "DEBUG": True}


def test_from_file_text_mode_by_default(config: Config, tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text("X")
    seen: list[object] = []

    def load(fp: Any) -> dict[str, Any]:
        seen.append(fp.read())
        return {}

    config.from_file("c.txt", load=load)
    config.from_file("c.txt", load=load, text=False)
    assert seen == ["X", b"X"]


def test_from_file_missing_raises(config: Config, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        config.from_file("missing.json", load=json.load)
    assert "Unable to load configuration file (No such file or directory)" in str(info.value)
    assert str(tmp_path / "missing.json") in str(info.value)


def test_from_file_missing_silent(config: Config) -> None:
    assert config.from_file("missing.json", load=json.load, silent=True) is False


def test_from_file_load_error_propagates(config: Config, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(json.JSONDecodeError):
        config.from_file("bad.json", load=json.load, silent=True)


# --- get_namespace ---------------------------------------------------------


@pytest.fixture
def namespaced(tmp_path: Path) -> Config:
    return Config(
        tmp_path,
        {
            "IMAGE_STORE_TYPE": "fs",
            "IMAGE_STORE_PATH": "/var/images",
            "IMAGE_STORE_BASE_URL": "http://img.example.com",
            "FOREIGN_KEY": "x",
        },
    )


def test_get_namespace_defaults(namespaced: Config) -> None:
    assert namespaced.get_namespace("IMAGE_STORE_") == {
        "type": "fs",
        "path": "/var/images",
        "base_url": "http://img.example.com",
    }


def test_get_namespace_keep_case(namespaced: Config) -> None:
    assert namespaced.get_namespace("IMAGE_STORE_", lowercase=False) == {
        "TYPE": "fs",
        "PATH": "/var/images",
        "BASE_URL": "http://img.example.com",
    }


def test_get_namespace_no_trim(namespaced: Config) -> None:
    assert namespaced.get_namespace("IMAGE_STORE_", trim_namespace=False) == {
        "image_store_type": "fs",
        "image_store_path": "/var/images",
        "image_store_base_url": "http://img.example.com",
    }


def test_get_namespace_no_trim_keep_case(namespaced: Config) -> None:
    result = namespaced.get_namespace("IMAGE_STORE_", lowercase=False, trim_namespace=False)
    assert set(result) == {"IMAGE_STORE_TYPE", "IMAGE_STORE_PATH", "IMAGE_STORE_BASE_URL"}


def test_get_namespace_no_match(namespaced: Config) -> None:
    assert namespaced.get_namespace("NOPE_") == {}


# --- ConfigAttribute -------------------------------------------------------


def _seconds_to_timedelta(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


class _Holder:
    debug = ConfigAttribute[bool]("DEBUG")
    lifetime = ConfigAttribute[timedelta](
        "PERMANENT_SESSION_LIFETIME", get_converter=_seconds_to_timedelta
    )

    def __init__(self) -> None:
        self.config = Config(".", DEFAULT_CONFIG)


def test_config_attribute_reads_and_writes_config() -> None:
    holder = _Holder()
    assert holder.debug is False
    holder.debug = True
    assert holder.config["DEBUG"] is True
    holder.config["DEBUG"] = False
    assert holder.debug is False


def test_config_attribute_converter_applies_on_read() -> None:
    holder = _Holder()
    assert holder.lifetime == timedelta(days=31)
    holder.lifetime = 60
    assert holder.config["PERMANENT_SESSION_LIFETIME"] == 60
    assert holder.lifetime == timedelta(seconds=60)


def test_config_attribute_on_class_returns_descriptor() -> None:
    descriptor = _Holder.debug
    assert isinstance(descriptor, ConfigAttribute)
    assert descriptor.__name__ == "DEBUG"


def test_config_attribute_missing_key_raises_key_error() -> None:
    holder = _Holder()
    del holder.config["DEBUG"]
    with pytest.raises(KeyError):
        _ = holder.debug
