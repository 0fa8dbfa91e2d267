"""`rackpanel repair`: a full repair on the simulator (after ALTER KEYSPACE raised a factor)"""

from __future__ import annotations

import argparse
import sys

from rackpanel.settings import add_inventory_argument

HELP = "full repair on the simulator: bring each partition to all of its current replicas"
REQUEST_TIMEOUT_SECONDS = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "keyspace", nargs="?", default=None, help="the keyspace (default: every user keyspace)"
    )
    parser.add_argument(
        "--admin",
        metavar="HOST:PORT",
        default=None,
        help="the simulator's admin API (default: the inventory's simulator.admin_address)",
    )
    add_inventory_argument(parser)


def run(args: argparse.Namespace) -> int:
    from rackpanel.cli.power import _admin_address
    from rackpanel.simulator.cluster.admin_client import AdminClient, AdminError

    try:
        client = AdminClient(_admin_address(args), timeout=REQUEST_TIMEOUT_SECONDS)
        answer = client.repair(args.keyspace)
    except AdminError as exc:
        print(f"rackpanel repair: {exc}", file=sys.stderr)
        return 2 if exc.status else 1
    print(
        f"repaired {', '.join(answer['keyspaces']) or 'nothing'}: "
        f"{answer['partitions_repaired']} partitions, "
        f"{answer['replica_copies_streamed']} replica copies streamed"
    )
    if answer["partitions_skipped"]:
        print(
            f"skipped {answer['partitions_skipped']} partitions: replicas down "
            f"({', '.join(answer['replicas_down'])}); run it again once they are back",
            file=sys.stderr,
        )
        return 1
    return 0
