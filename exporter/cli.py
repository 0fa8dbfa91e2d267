"""`rackpanel exporter`: one Cassandra node's Prometheus exporter (/metrics on :9500).

It talks to its local node only and never reads the inventory (Prometheus adds the cluster,
dc, rack and node labels). Every option is also a key of ``--config FILE`` (YAML, keys = long
option names) and can be set by ``RACKPANEL_<OPTION>``; flag > environment > file > default:

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

from rackpanel.settings import add_config_argument, flag, load_args

HELP = "run one Cassandra node's Prometheus exporter (/metrics on :9500)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rackpanel.exporter.options import ExporterSettings as S

    parser.epilog = (
        "Every option is also a key of the --config file and takes its value from "
        "$RACKPANEL_<OPTION> when set (e.g. RACKPANEL_CASSANDRA); flags win over both. The "
        "exporter never reads the inventory: Prometheus adds cluster, dc, rack and node labels."
    )
    add_config_argument(parser)
    flag(
        parser,
        S,
        "--cassandra",
        metavar="HOST[:PORT]",
        help="the local node's CQL address (default %(default)s)",
    )
    flag(
        parser,
        S,
        "--listen",
        metavar="ADDR:PORT",
        help="where /metrics is served (default %(default)s)",
    )
    flag(
        parser,
        S,
        "--jolokia",
        metavar="URL|auto|none",
        help="Jolokia agent URL; auto tries http://<cassandra host>:8778/jolokia/ "
        "(default %(default)s)",
    )
    flag(
        parser,
        S,
        "--interval",
        metavar="SECONDS",
        type=float,
        help="collection interval (default %(default)s)",
    )
    flag(
        parser,
        S,
        "--timeout",
        metavar="SECONDS",
        type=float,
        help="per-source timeout (default: the interval, between 1 and 5 s)",
    )
    flag(
        parser,
        S,
        "--username",
        help="CQL user (password from $RACKPANEL_CQL_PASSWORD or --password-file)",
    )
    # refused: see options.from_args
    flag(parser, S, "--password", help=argparse.SUPPRESS)
    flag(parser, S, "--password-file", metavar="FILE", help="file holding the CQL password")
    flag(parser, S, "--pid-file", metavar="FILE", help="Cassandra's pid file, for the proc source")
    flag(
        parser,
        S,
        "--process-pattern",
        metavar="TEXT",
        help="find Cassandra by this command-line substring when there is no pid file "
        "('none' turns the proc source off; default %(default)s)",
    )
    flag(
        parser,
        S,
        "--gc-log",
        metavar="PATH",
        help="the JVM's unified GC log (e.g. /var/log/cassandra/gc.log), read when Jolokia is "
        "absent",
    )
    flag(
        parser,
        S,
        "--tls-cert",
        metavar="FILE",
        help="serve /metrics over TLS with this certificate (with --tls-key)",
    )
    flag(parser, S, "--tls-key", metavar="FILE", help="the TLS private key")
    flag(
        parser,
        S,
        "--basic-auth-file",
        metavar="FILE",
        help="require HTTP basic auth; lines user:password",
    )
    flag(
        parser,
        S,
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    from rackpanel.exporter.app import Exporter
    from rackpanel.exporter.options import ExporterSettings, from_args

    settings = load_args(ExporterSettings, args)
    options = from_args(settings)
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s rackpanel exporter %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    exporter = Exporter(options)
    try:
        exporter.start()
    except OSError as exc:
        print(
            f"rackpanel exporter: cannot listen on {options.listen_host}:{options.listen_port} "
            "(--listen): "
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
    # A timed wait, as the demo's: Python runs a signal's handler in the main thread, and a
    # signal the kernel hands to another thread does not wake a main thread blocked in an
    # untimed wait (SIGTERM then hung the exporter, a few times in a hundred).
    while not stop.wait(0.5):
        pass
    exporter.stop()
    return 0
