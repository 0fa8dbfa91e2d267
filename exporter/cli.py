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

from rackpanel.config import add_config_argument, apply_config, env_default

HELP = "run one Cassandra node's Prometheus exporter (/metrics on :9500)"
DEFAULT_PROCESS_PATTERN = "org.apache.cassandra.service.CassandraDaemon"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Every option is also a key of the --config file and takes its default from "
        "$RACKPANEL_<OPTION> (e.g. RACKPANEL_CASSANDRA). The exporter never reads the "
        "inventory: Prometheus adds cluster, dc, rack and node labels."
    )
    add_config_argument(parser)
    add = parser.add_argument
    add(
        "--cassandra",
        metavar="HOST[:PORT]",
        default=env_default("cassandra", "127.0.0.1:9042"),
        help="the local node's CQL address (default %(default)s)",
    )
    add(
        "--listen",
        metavar="ADDR:PORT",
        default=env_default("listen", "0.0.0.0:9500"),
        help="where /metrics is served (default %(default)s)",
    )
    add(
        "--jolokia",
        metavar="URL|auto|none",
        default=env_default("jolokia", "auto"),
        help="Jolokia agent URL; auto tries http://<cassandra host>:8778/jolokia/ "
        "(default %(default)s)",
    )
    add(
        "--interval",
        metavar="SECONDS",
        type=float,
        default=env_default("interval", 5.0),
        help="collection interval (default %(default)s)",
    )
    add(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=env_default("timeout", None),
        help="per-source timeout (default: the interval, between 1 and 5 s)",
    )
    add(
        "--username",
        default=env_default("username", None),
        help="CQL user (password from $RACKPANEL_CQL_PASSWORD or --password-file)",
    )
    add("--password", default=None, help=argparse.SUPPRESS)  # refused: see options.from_args
    add(
        "--password-file",
        metavar="FILE",
        default=env_default("password_file", None),
        help="file holding the CQL password",
    )
    add(
        "--pid-file",
        metavar="FILE",
        default=env_default("pid_file", None),
        help="Cassandra's pid file, for the proc source",
    )
    add(
        "--process-pattern",
        metavar="TEXT",
        default=env_default("process_pattern", DEFAULT_PROCESS_PATTERN),
        help="find Cassandra by this command-line substring when there is no pid file "
        "('none' turns the proc source off; default %(default)s)",
    )
    add(
        "--gc-log",
        metavar="PATH",
        default=env_default("gc_log", None),
        help="the JVM's unified GC log (e.g. /var/log/cassandra/gc.log), read when Jolokia is "
        "absent",
    )
    add(
        "--tls-cert",
        metavar="FILE",
        default=env_default("tls_cert", None),
        help="serve /metrics over TLS with this certificate (with --tls-key)",
    )
    add(
        "--tls-key",
        metavar="FILE",
        default=env_default("tls_key", None),
        help="the TLS private key",
    )
    add(
        "--basic-auth-file",
        metavar="FILE",
        default=env_default("basic_auth_file", None),
        help="require HTTP basic auth; lines user:password",
    )
    add(
        "--log-level",
        default=env_default("log_level", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    from exporter.app import Exporter
    from exporter.options import from_args

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
