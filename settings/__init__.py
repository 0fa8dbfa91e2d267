"""Options of the long-running services (exporter, writer): flag > environment > file > default.

Each service declares its options once, as a pydantic-settings model (:class:`ServiceSettings`):
the field's type checks the value, its default is the built-in default, and ``env=True`` in
:func:`option` lets ``RACKPANEL_<OPTION>`` set it. The command line is argparse, with every
option declared through :func:`flag`, whose argparse default is ``SUPPRESS``: the parsed
namespace holds exactly the flags that were given (an abbreviation such as ``--interv 2``
included), so nothing reads ``sys.argv`` or argparse internals to guess it.

:func:`load` layers them: the flags given, then the declared environment variables, then the
``--config FILE`` (YAML, keys are the long option names, ``request-timeout`` or
``request_timeout``), then the defaults. Unknown keys and bad values are :class:`ConfigError`
naming the flag, the variable or the file and key they came from.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Annotated, Any, Protocol, TypeVar

import yaml
from pydantic import BeforeValidator, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "RACKPANEL_"


class ConfigError(ValueError):
    pass


# A list option: a YAML list, or one string (a file may say ``contact_points: 127.0.0.1``).
StrList = Annotated[list[str], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)]


def env_name(option: str) -> str:
    """``request-timeout`` → ``RACKPANEL_REQUEST_TIMEOUT``."""
    return f"{ENV_PREFIX}{option.upper().replace('-', '_')}"


def option(default: Any = None, *, env: bool = False, **kwargs: Any) -> Any:
    """A settings field; ``env=True`` lets ``RACKPANEL_<NAME>`` set it."""
    return Field(default, json_schema_extra={"env": env}, **kwargs)


def _declares_env(field: FieldInfo) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("env"))


class ServiceSettings(BaseSettings):
    """Base of a service's options: unknown keys are errors, values are validated."""

    model_config = SettingsConfigDict(extra="forbid", env_prefix=ENV_PREFIX, frozen=True)

    @classmethod
    def env_options(cls) -> list[str]:
        return [name for name, field in cls.model_fields.items() if _declares_env(field)]


S = TypeVar("S", bound=ServiceSettings)


class _DeclaredEnvironment(EnvSettingsSource):
    """``RACKPANEL_<OPTION>`` for the options that declare it, and for no other."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if not _declares_env(field):
            return None, field_name, False
        return super().get_field_value(field, field_name)


class _Values(PydanticBaseSettingsSource):
    """Values already read (the config file's)."""

    def __init__(self, settings_cls: type[BaseSettings], values: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self._values = dict(values)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._values)


def read_file(model: type[ServiceSettings], path: str) -> dict[str, Any]:
    """A ``--config`` file as ``{field: value}``; ConfigError naming the file and the key."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config file must be a mapping of option: value")
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in model.model_fields:
            known = ", ".join(sorted(model.model_fields))
            raise ConfigError(f"{path}: unknown key {key!r} (known: {known})")
        out[name] = value
    return out


def given(model: type[ServiceSettings], args: argparse.Namespace) -> dict[str, Any]:
    """The options given as flags: what a parser built with :func:`flag` put in ``args``."""
    return {k: v for k, v in vars(args).items() if k in model.model_fields}


def load(
    model: type[S], flags: Mapping[str, Any] | None = None, config_file: str | None = None
) -> S:
    """The service's options: ``flags`` > declared environment > ``config_file`` > defaults."""
    flags = dict(flags or {})
    from_file = read_file(model, config_file) if config_file else {}

    class Layered(model):  # type: ignore[valid-type, misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (
                init_settings,
                _DeclaredEnvironment(settings_cls),
                _Values(settings_cls, from_file),
            )

    try:
        settings = Layered(**flags)
    except ValidationError as exc:
        raise ConfigError(_explain(model, exc, flags, from_file, config_file)) from None
    return settings


def load_args(model: type[S], args: argparse.Namespace) -> S:
    """:func:`load` from a namespace parsed with :func:`flag` options and ``--config``."""
    return load(model, given(model, args), getattr(args, "config", None))


def _explain(
    model: type[ServiceSettings],
    exc: ValidationError,
    flags: Mapping[str, Any],
    from_file: Mapping[str, Any],
    path: str | None,
) -> str:
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        field = model.model_fields.get(name)
        variable = env_name(name)
        if name in flags:
            where = "--" + name.replace("_", "-")
        elif field is not None and _declares_env(field) and variable in os.environ:
            where = f"${variable}"
        elif name in from_file:
            where = f"{path}: {name}"
        else:
            where = name
        lines.append(f"{where}: {error['msg']} (got {error.get('input')!r})")
    return "; ".join(lines)


class _Adds(Protocol):
    """A parser or an argument group."""

    def add_argument(self, *names: str, **kwargs: Any) -> Any: ...


def flag(
    parser: _Adds,
    model: type[ServiceSettings],
    name: str,
    *aliases: str,
    **kwargs: Any,
) -> None:
    """Declare ``--name`` for the model's field of that name: no argparse default (the model
    has it), ``%(default)s`` in the help shows the model's default, and the help names
    ``$RACKPANEL_<NAME>`` when the field declares it."""
    dest = name.removeprefix("--").replace("-", "_")
    field = model.model_fields[dest]
    text = kwargs.pop("help", "")
    if text is not argparse.SUPPRESS:
        default = field.get_default(call_default_factory=True)
        text = text.replace("%(default)s", str(default))
        if _declares_env(field):
            text += f" [${env_name(dest)}]"
    parser.add_argument(name, *aliases, dest=dest, default=argparse.SUPPRESS, help=text, **kwargs)


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="YAML file of options (keys = long option names); flags and declared "
        "RACKPANEL_<OPTION> variables override it",
    )


def add_inventory_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--inventory`` option every inventory-driven subcommand shares."""
    parser.add_argument(
        "--inventory",
        "-i",
        metavar="FILE",
        default=None,
        help="inventory file (default: $RACKPANEL_INVENTORY or ./inventory.yml)",
    )
