"""The writer's settings, checked before anything starts.

:func:`from_args` turns the parsed command line (flags, ``--config`` file, environment)
into :class:`WriterOptions` or raises :class:`~rackpanel.settings.ConfigError` naming the
option at fault, so a bad config never half-starts a writer.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path

from rackpanel.lcd_writer.consistency import Operation, check_level
from rackpanel.lcd_writer.plates import BACKENDS
from rackpanel.lcd_writer.screen import Color
from rackpanel.settings import ConfigError, ServiceSettings, StrList
from rackpanel.settings import option as setting
from rackpanel.topology.model import DEFAULT_DC_COLORS

from rackpanel.secret_files import warn_if_readable_by_others

PASSWORD_ENV = "RACKPANEL_CQL_PASSWORD"
KEYSPACE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
DC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
DEFAULT_COLORS: dict[str, Color] = dict(DEFAULT_DC_COLORS)


class WriterSettings(ServiceSettings):
    """The writer's options as given (flags, --config file, defaults; no environment)."""

    name: str = setting("writer")
    local_dc: str | None = setting(None)
    contact_points: StrList | None = setting(None)
    keyspace: str = setting("demorpi")
    replication: StrList = setting(["DC1:3", "DC2:3"])
    used_hosts_per_remote_dc: int = setting(3)
    token_aware: bool = setting(False)
    protocol_version: int | None = setting(None)
    source_address: str | None = setting(None)
    username: str | None = setting(None)
    password_file: str | None = setting(None)
    write_cl: str | None = setting(None)
    conditional: bool = setting(False)
    read_cl: str = setting("ONE")
    interval: float = setting(5.0)
    rate: float | None = setting(None)
    max_in_flight: int = setting(64)
    read: bool = setting(False)
    request_timeout: float = setting(0.5)
    connect_timeout: float = setting(2.0)
    heartbeat_interval: float = setting(2.0)
    display: str = setting("none")
    colors: StrList | None = setting(None)
    hold: float = setting(2.0)
    listen: str = setting("0.0.0.0:9501")
    keypad_api: bool = setting(False)
    keypad_api_remote: bool = setting(False)
    log_file: str | None = setting(None)


@dataclass(frozen=True)
class WriterOptions:
    name: str
    local_dc: str
    contact_points: tuple[tuple[str, int], ...]
    listen: tuple[str, int] = ("0.0.0.0", 9501)
    display: str = "none"
    keypad_api: bool = False
    keypad_api_remote: bool = False
    conditional: bool = False
    write_cl: str = "LOCAL_ONE"
    read_cl: str = "ONE"
    interval: float = 5.0
    rate: float | None = None
    max_in_flight: int = 64
    read: bool = False
    request_timeout: float = 0.5
    connect_timeout: float = 2.0
    heartbeat_interval: float = 2.0
    keyspace: str = "demorpi"
    replication: dict[str, int] = field(default_factory=lambda: {"DC1": 3, "DC2": 3})
    used_hosts_per_remote_dc: int = 3
    token_aware: bool = False
    protocol_version: int | None = None
    source_address: str | None = None
    username: str | None = None
    password: str | None = None
    colors: dict[str, Color] = field(default_factory=lambda: dict(DEFAULT_COLORS))
    hold_seconds: float = 2.0

    @property
    def is_rate_mode(self) -> bool:
        return self.rate is not None


def _split(values: list[str] | str | None) -> list[str]:
    """Items of a list option given as repeated values and/or comma-separated strings."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else values
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def parse_hostport(text: str, default_port: int, option: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, str(default_port)
    host = host.strip("[]") or "0.0.0.0"
    try:
        ip_address(host)
        number = int(port)
        if not 1 <= number <= 65535:
            raise ValueError
    except ValueError:
        raise ConfigError(f"{option}: {text!r} is not ADDRESS[:PORT] (an IP address)") from None
    return host, number


def parse_replication(values: list[str] | str | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in _split(values):
        dc, sep, rf = item.partition(":")
        if not sep or not DC_NAME.match(dc) or not rf.isdigit() or int(rf) < 1:
            raise ConfigError(f"--replication: {item!r} is not DC:RF (e.g. DC1:3)")
        out[dc] = int(rf)
    if not out:
        raise ConfigError("--replication: give at least one DC:RF")
    return out


def parse_colors(values: list[str] | str | None) -> dict[str, Color]:
    """``DC1=0,1,0 DC2=0,0,1``: backlight (r, g, b, each 0 or 1) per coordinator DC."""
    out = dict(DEFAULT_COLORS)
    items = [values] if isinstance(values, str) else (values or [])
    for item in items:
        dc, sep, rgb = str(item).partition("=")
        parts = rgb.split(",")
        if not sep or not dc or len(parts) != 3 or any(p.strip() not in ("0", "1") for p in parts):
            raise ConfigError(f"--colors: {item!r} is not DC=R,G,B with each 0 or 1 (DC1=0,1,0)")
        r, g, b = (int(p) for p in parts)
        out[dc.strip()] = (r, g, b)
    return out


def _address(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    try:
        return str(ip_address(text))
    except ValueError:
        raise ConfigError(f"{option}: {text!r} is not an IP address") from None


def _password(args: WriterSettings) -> str | None:
    if args.password_file:
        try:
            password = Path(args.password_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"--password-file: {args.password_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"--password-file: {args.password_file}: not UTF-8 text") from None
        warn_if_readable_by_others(args.password_file, "--password-file")
        return password
    return os.environ.get(PASSWORD_ENV)


def _positive(value: float | int | None, option: str) -> None:
    if value is not None and not value > 0:
        raise ConfigError(f"{option}: must be > 0, got {value}")


def _level(operation: Operation, name: str, conditional: bool) -> str:
    try:
        return check_level(operation, name, conditional)
    except ValueError as exc:
        raise ConfigError(f"--{operation}-cl: {exc}") from None


def from_args(args: WriterSettings) -> WriterOptions:
    contacts = tuple(
        parse_hostport(c, 9042, "--contact-points") for c in _split(args.contact_points)
    )
    if not contacts:
        raise ConfigError(
            "--contact-points: give at least one node address (host[:port]), or --name of a "
            "writer of the inventory"
        )
    if not args.local_dc:
        raise ConfigError("--local-dc: required (the writer's own datacenter, e.g. DC1)")
    default_write = "LOCAL_SERIAL" if args.conditional else "LOCAL_ONE"
    write_cl = _level("write", args.write_cl or default_write, args.conditional)
    read_cl = _level("read", args.read_cl, args.conditional)
    for value, option in (
        (args.interval, "--interval"),
        (args.rate, "--rate"),
        (args.max_in_flight, "--max-in-flight"),
        (args.request_timeout, "--request-timeout"),
        (args.connect_timeout, "--connect-timeout"),
        (args.heartbeat_interval, "--heartbeat-interval"),
        (args.hold, "--hold"),
    ):
        _positive(value, option)
    if args.used_hosts_per_remote_dc < 0:
        raise ConfigError("--used-hosts-per-remote-dc: must be >= 0")
    if args.display not in BACKENDS:
        raise ConfigError(f"--display: {args.display!r} is not one of {', '.join(BACKENDS)}")
    if not KEYSPACE_NAME.match(args.keyspace):
        raise ConfigError(f"--keyspace: {args.keyspace!r} is not a keyspace name ([a-z][a-z0-9_]*)")
    password = _password(args)
    if password is not None and not args.username:
        raise ConfigError(
            f"a password is set ({PASSWORD_ENV} or --password-file) but no --username"
        )
    if args.username and password is None:
        raise ConfigError(f"--username {args.username}: set {PASSWORD_ENV} or --password-file")
    return WriterOptions(
        name=args.name,
        local_dc=args.local_dc,
        contact_points=contacts,
        listen=parse_hostport(args.listen, 9501, "--listen"),
        display=args.display,
        keypad_api=args.keypad_api or args.keypad_api_remote,
        keypad_api_remote=args.keypad_api_remote,
        conditional=args.conditional,
        write_cl=write_cl,
        read_cl=read_cl,
        interval=args.interval,
        rate=args.rate,
        max_in_flight=args.max_in_flight,
        read=args.read,
        request_timeout=args.request_timeout,
        connect_timeout=args.connect_timeout,
        heartbeat_interval=args.heartbeat_interval,
        keyspace=args.keyspace,
        replication=parse_replication(args.replication),
        used_hosts_per_remote_dc=args.used_hosts_per_remote_dc,
        token_aware=args.token_aware,
        protocol_version=args.protocol_version,
        source_address=_address(args.source_address, "--source-address"),
        username=args.username,
        password=password,
        colors=parse_colors(args.colors),
        hold_seconds=args.hold,
    )
