"""`rackpanel sim`: run the Cassandra cluster simulator for the inventory"""

from __future__ import annotations

import argparse
import sys

from rackpanel.settings import add_inventory_argument

HELP = "run the Cassandra cluster simulator for the inventory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_inventory_argument(parser)
    parser.add_argument(
        "--failure-detector",
        choices=["fast", "realistic"],
        default=None,
        help="convict dead nodes after ~4.6 s (fast) or ~18 s (realistic, phi 8); "
        "default: the inventory's simulator.failure_detector",
    )
    parser.add_argument(
        "--admin",
        metavar="HOST:PORT",
        default=None,
        help="admin API address (default: the inventory's simulator.admin_address)",
    )
    parser.add_argument(
        "--no-jolokia", action="store_true", help="do not serve the Jolokia endpoint of each node"
    )
    parser.add_argument(
        "--no-schema",
        action="store_true",
        help="do not create the inventory's keyspace and the writers' table at start",
    )
    parser.add_argument(
        "--max-partitions",
        type=_positive_int,
        default=None,
        metavar="N",
        help="keep at most N partitions (oldest written dropped first, from every replica), "
        "so memory stays bounded when writing for days (default 500000, about 0.4 GB)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log at debug level")


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    try:
        from rackpanel.simulator.app import StartupError, parse_host_port, serve
    except ModuleNotFoundError as exc:  # a core install (a Pi) has no simulator dependencies
        print(
            f"rackpanel sim: needs {exc.name}, which comes with the demo extra: "
            "pip install 'rackpanel[demo]'",
            file=sys.stderr,
        )
        return 2
    from rackpanel.topology import load_inventory

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    inv = load_inventory(args.inventory)
    try:
        admin = parse_host_port(args.admin or inv.simulator.admin_address, "--admin")
        asyncio.run(
            serve(
                inv,
                failure_detector=args.failure_detector,
                admin=admin,
                jolokia=not args.no_jolokia,
                schema=not args.no_schema,
                **({"max_partitions": args.max_partitions} if args.max_partitions else {}),
            )
        )
    except StartupError as exc:
        print(f"rackpanel sim: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
