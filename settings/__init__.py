"""`--config FILE` for long-running services (exporter, writer): a YAML mapping of options.

Keys are the subcommand's long option names (``--request-timeout`` → ``request_timeout`` or
``request-timeout``). Precedence: command-line flag > environment (``RACKPANEL_<KEY>``, when
the option declares one through :func:`env_default`) > config file > built-in default.
Unknown keys and bad values are errors naming the file and the key.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

import yaml


class ConfigError(ValueError):
    pass


def env_name(option: str) -> str:
    """``request-timeout`` → ``RACKPANEL_REQUEST_TIMEOUT``."""
    return f"RACKPANEL_{option.upper().replace('-', '_')}"


def env_default(name: str, default: Any) -> Any:
    """The default of an option, taken from ``RACKPANEL_<NAME>`` when that is set."""
    return os.environ.get(env_name(name), default)


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="YAML file of options (keys = long option names); flags override it",
    )


def _actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {
        a.dest: a
        for a in parser._actions  # argparse has no public accessor for this
        if a.option_strings and a.dest not in {"help", "config"}
    }


def _coerce(path: str, key: str, action: argparse.Action, value: Any) -> Any:
    if isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction):
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: {key}: expected true or false, got {value!r}")
        return value
    if action.nargs in ("*", "+") or isinstance(action, argparse._AppendAction):
        items = value if isinstance(value, list) else [value]
        return [_coerce(path, key, _Single(action), v) for v in items]
    if action.type is not None and value is not None:
        try:
            value = action.type(str(value) if not isinstance(value, str) else value)
        except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
            raise ConfigError(f"{path}: {key}: invalid value {value!r} ({exc})") from None
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise ConfigError(f"{path}: {key}: {value!r} is not one of {choices}")
    return value


class _Single:
    """An action's per-item view (type and choices) for list-valued options."""

    def __init__(self, action: argparse.Action) -> None:
        self.type = action.type
        self.choices = action.choices
        self.nargs = None


def read_config(parser: argparse.ArgumentParser, path: str) -> dict[str, Any]:
    """The config file as ``{dest: value}``; raises :class:`ConfigError` naming file and key."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config file must be a mapping of option: value")
    actions = _actions(parser)
    out: dict[str, Any] = {}
    for key, value in data.items():
        dest = str(key).replace("-", "_")
        if dest not in actions:
            known = ", ".join(sorted(actions))
            raise ConfigError(f"{path}: unknown key {key!r} (known: {known})")
        out[dest] = _coerce(path, str(key), actions[dest], value)
    return out


def parse_with_config(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None = None
) -> argparse.Namespace:
    """Parse ``argv``, layering a ``--config`` file under the flags given on the command line."""
    args = parser.parse_args(argv)
    return apply_config(parser, args, argv)


def apply_config(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    argv: Sequence[str] | None = None,
) -> argparse.Namespace:
    """Fill options not given on the command line from ``args.config`` (if any)."""
    path = getattr(args, "config", None)
    if not path:
        return args
    values = read_config(parser, path)
    given = _given_dests(parser, sys.argv[1:] if argv is None else list(argv))
    for dest, value in values.items():
        if dest not in given and env_name(dest) not in os.environ:
            setattr(args, dest, value)
    return args


def _given_dests(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    given: set[str] = set()
    by_flag = {flag: a.dest for a in _actions(parser).values() for flag in a.option_strings}
    for token in argv:
        flag = token.split("=", 1)[0]
        if flag in by_flag:
            given.add(by_flag[flag])
    return given


def add_inventory_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--inventory`` option every inventory-driven subcommand shares."""
    parser.add_argument(
        "--inventory",
        "-i",
        metavar="FILE",
        default=None,
        help="inventory file (default: $RACKPANEL_INVENTORY or ./inventory.yml)",
    )
