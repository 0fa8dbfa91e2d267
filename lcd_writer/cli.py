"""`rackpanel writer`: run one LCD client writing at the keypad-selected consistency level

Every option can also come from ``--config FILE`` (YAML, keys = long option names, e.g.
``local_dc: DC1``, ``contact_points: [127.0.11.1, 127.0.11.2]``); flags win over the file.
The CQL password comes from ``$RACKPANEL_CQL_PASSWORD`` or ``--password-file``, never a flag.
"""

from __future__ import annotations

import argparse

from rackpanel.settings import add_config_argument

HELP = "run one LCD client writing at the keypad-selected consistency level"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    who = parser.add_argument_group("identity and cluster")
    who.add_argument("--name", default="writer", help="this writer's name (lcd_writer_info)")
    who.add_argument("--local-dc", default=None, help="the writer's own datacenter (required)")
    who.add_argument(
        "--contact-points",
        nargs="+",
        metavar="HOST[:PORT]",
        help="nodes to bootstrap from, space- or comma-separated (port 9042 by default)",
    )
    who.add_argument("--keyspace", default="demorpi", help="created if absent (default demorpi)")
    who.add_argument(
        "--replication",
        nargs="+",
        default=["DC1:3", "DC2:3"],
        metavar="DC:RF",
        help="NetworkTopologyStrategy RF used when creating the keyspace (default DC1:3 DC2:3)",
    )
    who.add_argument(
        "--used-hosts-per-remote-dc",
        type=int,
        default=3,
        help="remote-DC hosts the driver may fail over to when local ones are gone (default 3)",
    )
    who.add_argument("--token-aware", action="store_true", help="route to a replica first")
    who.add_argument(
        "--protocol-version", type=int, default=None, help="CQL protocol (default: negotiate)"
    )
    who.add_argument(
        "--source-address",
        default=None,
        metavar="ADDR",
        help="open CQL connections from this local address (the demo: the writer's sim address)",
    )
    who.add_argument("--username", default=None, help="CQL user (password: see above)")
    who.add_argument("--password-file", default=None, help="file holding the CQL password")

    req = parser.add_argument_group("requests")
    req.add_argument(
        "--write-cl",
        default=None,
        help="initial write CL (LOCAL_ONE; LOCAL_SERIAL with --conditional)",
    )
    req.add_argument(
        "--conditional",
        action="store_true",
        help="write with INSERT ... IF NOT EXISTS (Paxos): the write menu offers SERIAL and "
        "LOCAL_SERIAL, committed at QUORUM / LOCAL_QUORUM",
    )
    req.add_argument("--read-cl", default="ONE", help="initial read CL (ONE)")
    req.add_argument(
        "--interval", type=float, default=5.0, help="seconds between writes (default 5)"
    )
    req.add_argument(
        "--rate",
        type=float,
        default=None,
        metavar="N",
        help="load mode: N writes/s, at most --max-in-flight outstanding (replaces --interval)",
    )
    req.add_argument(
        "--max-in-flight", type=int, default=64, help="bound on outstanding requests (64)"
    )
    req.add_argument(
        "--read", action="store_true", help="read back each acknowledged row at the read CL"
    )
    req.add_argument(
        "--request-timeout", type=float, default=0.5, help="client timeout, s (default 0.5)"
    )
    req.add_argument(
        "--connect-timeout", type=float, default=2.0, help="connection timeout, s (default 2)"
    )
    req.add_argument(
        "--heartbeat-interval",
        type=float,
        default=2.0,
        help="idle heartbeat interval and timeout, s: how fast a powered-off node is noticed "
        "(default 2; the driver's own default is 30)",
    )

    ui = parser.add_argument_group("LCD, keypad and HTTP")
    ui.add_argument(
        "--display",
        default="none",
        choices=["terminal", "adafruit", "circuitpython", "none"],
        help="LCD + keypad backend (default none)",
    )
    ui.add_argument(
        "--colors",
        nargs="+",
        metavar="DC=R,G,B",
        default=None,
        help="backlight per coordinator DC, each 0/1 (default DC1=0,1,0 DC2=0,0,1); red = error",
    )
    ui.add_argument(
        "--hold", type=float, default=2.0, help="seconds SELECT is held to open the menu (2)"
    )
    ui.add_argument(
        "--listen",
        default="0.0.0.0:9501",
        metavar="ADDR:PORT",
        help="HTTP: /metrics, GET /lcd, POST /keypad/<button> (default 0.0.0.0:9501)",
    )
    ui.add_argument(
        "--keypad-api",
        action="store_true",
        help="enable POST /keypad/<select|left|right|up|down>[?hold=S] for loopback clients",
    )
    ui.add_argument(
        "--keypad-api-remote",
        action="store_true",
        help="let other hosts press the keys too (implies --keypad-api; the port has no auth)",
    )
    ui.add_argument("--log-file", default=None, help="write the log here (default: stderr)")


def run(args: argparse.Namespace) -> int:
    from rackpanel.lcd_writer.app import run_writer
    from rackpanel.lcd_writer.options import from_args
    from rackpanel.settings import apply_config

    apply_config(_parser_of(args), args)
    return run_writer(from_args(args), log_file=args.log_file)


def _parser_of(args: argparse.Namespace) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rackpanel writer")
    add_arguments(parser)
    return parser
