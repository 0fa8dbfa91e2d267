"""The exporter's settings, validated once from the command line / ``--config`` file.

Errors are :class:`rackpanel.settings.ConfigError` naming the option (and file) at fault.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rackpanel.exporter.server import ConfigFileError, read_basic_auth, tls_context
from rackpanel.exporter.sources.cql import parse_host_port
from rackpanel.settings import ConfigError, ServiceSettings, option

from rackpanel.secret_files import warn_if_readable_by_others

PASSWORD_ENV = "RACKPANEL_CQL_PASSWORD"
DEFAULT_PROCESS_PATTERN = "org.apache.cassandra.service.CassandraDaemon"


class ExporterSettings(ServiceSettings):
    """The exporter's options as given (flags, RACKPANEL_<OPTION>, --config file, defaults)."""

    cassandra: str = option("127.0.0.1:9042", env=True)
    listen: str = option("0.0.0.0:9500", env=True)
    jolokia: str = option("auto", env=True)
    interval: float = option(5.0, env=True)
    timeout: float | None = option(None, env=True)
    username: str | None = option(None, env=True)
    password: str | None = option(None)  # refused by from_args, whatever its source
    password_file: str | None = option(None, env=True)
    pid_file: str | None = option(None, env=True)
    process_pattern: str = option(DEFAULT_PROCESS_PATTERN, env=True)
    gc_log: str | None = option(None, env=True)
    tls_cert: str | None = option(None, env=True)
    tls_key: str | None = option(None, env=True)
    basic_auth_file: str | None = option(None, env=True)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = option("INFO", env=True)


@dataclass(frozen=True)
class ExporterOptions:
    cassandra_host: str = "127.0.0.1"
    cassandra_port: int = 9042
    listen_host: str = "0.0.0.0"
    listen_port: int = 9500
    jolokia_url: str | None = None
    jolokia_auto: bool = False
    interval: float = 5.0
    timeout: float = 5.0
    username: str | None = None
    password: str | None = None
    pid_file: str | None = None
    process_pattern: str | None = None
    gc_log: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    basic_auth: dict[str, str] | None = None


def default_timeout(interval: float) -> float:
    return min(max(interval, 1.0), 5.0)


def from_args(args: Any) -> ExporterOptions:
    """Build and check the options from an argparse namespace (see :mod:`exporter.cli`)."""
    if getattr(args, "password", None):
        raise ConfigError(
            "password: never on the command line or in the config file (ps and logs show "
            f"them): use ${PASSWORD_ENV} or --password-file"
        )
    try:
        host, port = parse_host_port(args.cassandra, 9042)
    except ValueError as exc:
        raise ConfigError(f"--cassandra: {exc}") from None
    try:
        listen_host, listen_port = parse_host_port(args.listen, 9500)
    except ValueError as exc:
        raise ConfigError(f"--listen: {exc}") from None
    interval = _positive("--interval", args.interval)
    timeout = (
        _positive("--timeout", args.timeout)
        if args.timeout is not None
        else default_timeout(interval)
    )
    jolokia = (args.jolokia or "auto").strip()
    auto = jolokia == "auto"
    if auto:
        url: str | None = f"http://{_url_host(host)}:8778/jolokia/"
    elif jolokia == "none":
        url = None
    elif jolokia.startswith(("http://", "https://")):
        url = jolokia
    else:
        raise ConfigError(f"--jolokia: expected a URL, auto or none, got {jolokia!r}")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ConfigError("--tls-cert and --tls-key go together")
    for flag, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        if path and not Path(path).is_file():
            raise ConfigError(f"{flag}: {path}: no such file")
    if args.tls_cert:
        try:
            tls_context(args.tls_cert, args.tls_key)  # loaded again at start; fail here, clearly
        except ConfigFileError as exc:
            raise ConfigError(str(exc)) from None
        warn_if_readable_by_others(args.tls_key, "--tls-key")
    try:
        users = read_basic_auth(args.basic_auth_file) if args.basic_auth_file else None
    except ConfigFileError as exc:
        raise ConfigError(str(exc)) from None
    pattern = args.process_pattern
    return ExporterOptions(
        cassandra_host=host,
        cassandra_port=port,
        listen_host=listen_host,
        listen_port=listen_port,
        jolokia_url=url,
        jolokia_auto=auto,
        interval=interval,
        timeout=timeout,
        username=args.username or None,
        password=_password(args.password_file),
        pid_file=args.pid_file or None,
        process_pattern=None if pattern in ("", "none") else pattern,
        gc_log=args.gc_log or None,
        tls_cert=args.tls_cert or None,
        tls_key=args.tls_key or None,
        basic_auth=users,
    )


def _positive(flag: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{flag}: expected seconds, got {value!r}") from None
    if not number > 0:
        raise ConfigError(f"{flag}: must be more than 0 seconds, got {value!r}")
    return number


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _password(path: str | None) -> str | None:
    if path:
        try:
            password = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"--password-file: {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"--password-file: {path}: not UTF-8 text") from None
        warn_if_readable_by_others(path, "--password-file")
        return password
    return os.environ.get(PASSWORD_ENV) or None
