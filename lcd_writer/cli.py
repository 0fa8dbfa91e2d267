"""`rackpanel writer`: run one LCD client writing at the keypad-selected consistency level

Every option can also come from ``--config FILE`` (YAML, keys = long option names, e.g.
``local_dc: DC1``, ``contact_points: [127.0.11.1, 127.0.11.2]``); flags win over the file, and
no ``RACKPANEL_<OPTION>`` variable changes the writer's options (see rackpanel.settings).
With an inventory (``--inventory``, ``$RACKPANEL_INVENTORY`` or ./inventory.yml) and no
``--config``, ``--name`` of one of its writers is enough: its DC, contact points, keyspace,
colours and addresses beside the simulator come from the inventory (flags still win).
The CQL password comes from ``$RACKPANEL_CQL_PASSWORD`` or ``--password-file``, never a flag.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rackpanel.settings import (
    ConfigError,
    add_config_argument,
    add_inventory_argument,
    flag,
    given,
    load,
)

HELP = "run one LCD client writing at the keypad-selected consistency level"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rackpanel.lcd_writer.options import WriterSettings as S

    add_config_argument(parser)
    add_inventory_argument(parser)
    who = parser.add_argument_group("identity and cluster")
    flag(
        who,
        S,
        "--name",
        help="this writer's name (lcd_writer_info); a writer of the inventory takes the rest "
        "from it",
    )
    flag(who, S, "--local-dc", help="the writer's own datacenter (required)")
    flag(
        who,
        S,
        "--contact-points",
        nargs="+",
        metavar="HOST[:PORT]",
        help="nodes to bootstrap from, space- or comma-separated (port 9042 by default)",
    )
    flag(who, S, "--keyspace", help="created if absent (default demorpi)")
    flag(
        who,
        S,
        "--replication",
        nargs="+",
        metavar="DC:RF",
        help="NetworkTopologyStrategy RF used when creating the keyspace (default DC1:3 DC2:3)",
    )
    flag(
        who,
        S,
        "--used-hosts-per-remote-dc",
        type=int,
        help="remote-DC hosts the driver may fail over to when local ones are gone (default 3)",
    )
    flag(who, S, "--token-aware", action="store_true", help="route to a replica first")
    flag(who, S, "--protocol-version", type=int, help="CQL protocol (default: negotiate)")
    flag(
        who,
        S,
        "--source-address",
        metavar="ADDR",
        help="open CQL connections from this local address (the demo: the writer's sim address)",
    )
    flag(who, S, "--username", help="CQL user (password: see above)")
    flag(who, S, "--password-file", help="file holding the CQL password")

    req = parser.add_argument_group("requests")
    flag(
        req,
        S,
        "--write-cl",
        help="initial write CL (LOCAL_ONE; LOCAL_SERIAL with --conditional)",
    )
    flag(
        req,
        S,
        "--conditional",
        action="store_true",
        help="write with INSERT ... IF NOT EXISTS (Paxos): the write menu offers SERIAL and "
        "LOCAL_SERIAL, committed at QUORUM / LOCAL_QUORUM",
    )
    flag(req, S, "--read-cl", help="initial read CL (ONE)")
    flag(req, S, "--interval", type=float, help="seconds between writes (default 5)")
    flag(
        req,
        S,
        "--rate",
        type=float,
        metavar="N",
        help="load mode: N writes/s, at most --max-in-flight outstanding (replaces --interval)",
    )
    flag(req, S, "--max-in-flight", type=int, help="bound on outstanding requests (64)")
    flag(
        req, S, "--read", action="store_true", help="read back each acknowledged row at the read CL"
    )
    flag(req, S, "--request-timeout", type=float, help="client timeout, s (default 0.5)")
    flag(req, S, "--connect-timeout", type=float, help="connection timeout, s (default 2)")
    flag(
        req,
        S,
        "--heartbeat-interval",
        type=float,
        help="idle heartbeat interval and timeout, s: how fast a powered-off node is noticed "
        "(default 2; the driver's own default is 30)",
    )

    ui = parser.add_argument_group("LCD, keypad and HTTP")
    flag(
        ui,
        S,
        "--display",
        choices=["terminal", "adafruit", "circuitpython", "none"],
        help="LCD + keypad backend (default none)",
    )
    flag(
        ui,
        S,
        "--colors",
        nargs="+",
        metavar="DC=R,G,B",
        help="backlight per coordinator DC, each 0/1 (default DC1=0,1,0 DC2=0,0,1); red = error",
    )
    flag(ui, S, "--hold", type=float, help="seconds SELECT is held to open the menu (2)")
    flag(
        ui,
        S,
        "--listen",
        metavar="ADDR:PORT",
        help="HTTP: /metrics, GET /lcd, POST /keypad/<button> (default 0.0.0.0:9501)",
    )
    flag(
        ui,
        S,
        "--keypad-api",
        action="store_true",
        help="enable POST /keypad/<select|left|right|up|down>[?hold=S] for loopback clients",
    )
    flag(
        ui,
        S,
        "--keypad-api-remote",
        action="store_true",
        help="let other hosts press the keys too (implies --keypad-api; the port has no auth)",
    )
    flag(ui, S, "--log-file", help="write the log here (default: stderr)")


def from_inventory(args: argparse.Namespace, flags: dict[str, Any]) -> dict[str, Any]:
    """The options the inventory gives the writer named by ``--name`` (beside the simulator);
    nothing when the flags already say where the cluster is, or no inventory is at hand."""
    from rackpanel.topology import load_inventory
    from rackpanel.topology.loader import DEFAULT_INVENTORY, ENV_INVENTORY
    from rackpanel.topology.service_options import simulated_writer_options

    if flags.get("local_dc") and flags.get("contact_points"):
        return {}
    if args.config and not args.inventory:
        return {}  # the config file (deploy's, on a Pi) says everything
    import os

    path = Path(args.inventory or os.environ.get(ENV_INVENTORY) or DEFAULT_INVENTORY)
    if not path.is_file() or "name" not in flags:
        return {}
    inv = load_inventory(path)
    place = next((w for w in inv.writer_places() if w.name == flags["name"]), None)
    if place is None:
        names = ", ".join(w.name for w in inv.writer_places()) or "none"
        raise ConfigError(f"--name {flags['name']}: no such writer in {path} (writers: {names})")
    options = simulated_writer_options(inv, place, display="none")
    del options["display"]
    return {key.replace("-", "_"): value for key, value in options.items()}


def run(args: argparse.Namespace) -> int:
    from rackpanel.lcd_writer.app import run_writer
    from rackpanel.lcd_writer.options import WriterSettings, from_args

    flags = given(WriterSettings, args)
    settings = load(WriterSettings, {**from_inventory(args, flags), **flags}, args.config)
    return run_writer(from_args(settings), log_file=settings.log_file)
