"""`rackpanel exporter`: one Cassandra node's Prometheus exporter (/metrics on :9500).

It talks to its local node only and never reads the inventory (Prometheus adds the cluster,
dc, rack and node labels). Every option is also a key of ``--config FILE`` (YAML, keys = long
option names) and most have an environment default ``RACKPANEL_<OPTION>``:

  --cassandra HOST[:PORT]   the node's CQL address (default 127.0.0.1:9042)
  --listen ADDR:PORT        where /metrics is served (default 0.0.0.0:9500)
  --jolokia URL|auto|none   Jolokia agent; auto = http://<cassandra host>:8778/jolokia/ if found
  --interval SECONDS        collection interval of every source (default 5; the demo uses 1)
  --timeout SECONDS         per-source timeout (default: the interval, between 1 and 5)
  --username NAME           CQL user; the password comes from $RACKPANEL_CQL_PASSWORD or
  --password-file FILE      (never from a flag)
  --pid-file FILE           the Cassandra pid file for the proc source, else
  --process-pattern TEXT    a command-line substring (default: CassandraDaemon's class; none = off)
  --gc-log PATH             the JVM's unified GC log (used when Jolokia is absent)
  --tls-cert/--tls-key      serve /metrics over TLS
  --basic-auth-file FILE    require HTTP basic auth: lines "user:password"
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from rackpanel.settings import add_config_argument, apply_config, env_default

HELP = "run one Cassandra node's Prometheus exporter (/metrics on :9500)"
DEFAULT_PROCESS_PATTERN = "org.apache.cassandra.service.CassandraDaemon"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Every option is also a key of the --config file and takes its default from "
        "$RACKPANEL_<OPTION> (e.g. RACKPANEL_CASSANDRA). The exporter never reads the "
        "inventory: Prometheus adds cluster, dc, rack and node labels."
    )
    add_config_argument(parser)

    def add_env_option(flag: str, default: Any, **kwargs: Any) -> None:
        """``flag`` whose default is taken from ``RACKPANEL_<FLAG>`` when that is set."""
        parser.add_argument(flag, default=env_default(flag.removeprefix("--"), default), **kwargs)

    add_env_option(
        "--cassandra",
        "127.0.0.1:9042",
        metavar="HOST[:PORT]",
        help="the local node's CQL address (default %(default)s)",
    )
    add_env_option(
        "--listen",
        "0.0.0.0:9500",
        metavar="ADDR:PORT",
        help="where /metrics is served (default %(default)s)",
    )
    add_env_option(
        "--jolokia",
        "auto",
        metavar="URL|auto|none",
        help="Jolokia agent URL; auto tries http://<cassandra host>:8778/jolokia/ "
        "(default %(default)s)",
    )
    add_env_option(
        "--interval",
        5.0,
        metavar="SECONDS",
        type=float,
        help="collection interval (default %(default)s)",
    )
    add_env_option(
        "--timeout",
        None,
        metavar="SECONDS",
        type=float,
        help="per-source timeout (default: the interval, between 1 and 5 s)",
    )
    add_env_option(
        "--username",
        None,
        help="CQL user (password from $RACKPANEL_CQL_PASSWORD or --password-file)",
    )
    # refused: see options.from_args
    parser.add_argument("--password", default=None, help=argparse.SUPPRESS)
    add_env_option("--password-file", None, metavar="FILE", help="file holding the CQL password")
    add_env_option(
        "--pid-file", None, metavar="FILE", help="Cassandra's pid file, for the proc source"
    )
    add_env_option(
        "--process-pattern",
        DEFAULT_PROCESS_PATTERN,
        metavar="TEXT",
        help="find Cassandra by this command-line substring when there is no pid file "
        "('none' turns the proc source off; default %(default)s)",
    )
    add_env_option(
        "--gc-log",
        None,
        metavar="PATH",
        help="the JVM's unified GC log (e.g. /var/log/cassandra/gc.log), read when Jolokia is "
        "absent",
    )
    add_env_option(
        "--tls-cert",
        None,
        metavar="FILE",
        help="serve /metrics over TLS with this certificate (with --tls-key)",
    )
    add_env_option("--tls-key", None, metavar="FILE", help="the TLS private key")
    add_env_option(
        "--basic-auth-file",
        None,
        metavar="FILE",
        help="require HTTP basic auth; lines user:password",
    )
    add_env_option(
        "--log-level",
        "INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    from rackpanel.exporter.app import Exporter
    from rackpanel.exporter.options import from_args

    parser = argparse.ArgumentParser(add_help=False)
    add_arguments(parser)
    apply_config(parser, args)
    options = from_args(args)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s rackpanel exporter %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    exporter = Exporter(options)
    try:
        exporter.start()
    except OSError as exc:
        print(
            f"rackpanel exporter: cannot listen on {options.listen_host}:{options.listen_port}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    print(
        f"rackpanel exporter: serving {exporter.url} for "
        f"{options.cassandra_host}:{options.cassandra_port}",
        flush=True,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    exporter.stop()
    return 0
