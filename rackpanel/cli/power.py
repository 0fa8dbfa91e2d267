"""`rackpanel power`: emergency stop: power off|on a DC, a rack, a node or a DC link"""

from __future__ import annotations

import argparse
import sys

from rackpanel.settings import add_inventory_argument
from rackpanel.topology.targets import is_link

HELP = "emergency stop: power off|on a DC, a rack, a node or a DC link"
REQUEST_TIMEOUT_SECONDS = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("off", "on"), help="cut or restore the power")
    parser.add_argument(
        "target",
        metavar="TARGET",
        help="a DC (DC1), a rack (DC1/RAC2), a node (rpidc2r1n3) or a DC link (link:DC1-DC2)",
    )
    parser.add_argument(
        "--crash",
        action="store_true",
        help="a process death (sockets reset at once) instead of a silent power cut",
    )
    parser.add_argument(
        "--admin",
        metavar="HOST:PORT",
        default=None,
        help="the simulator's admin API (default: the inventory's simulator.admin_address)",
    )
    parser.add_argument(
        "--compose",
        action="store_true",
        help="act on the docker compose stack instead of the simulator: off kills the "
        "target's Cassandra containers and their exporters (SIGKILL, like pulling the plug), "
        "on starts them again",
    )
    parser.add_argument(
        "--compose-file",
        default="docker-compose.yml",
        help="with --compose: the compose file (default: docker-compose.yml)",
    )
    add_inventory_argument(parser)


def _admin_address(args: argparse.Namespace) -> str:
    if args.admin:
        return args.admin
    from rackpanel.topology import load_inventory

    return load_inventory(args.inventory).simulator.admin_address


def power(admin: str, action: str, target: str, crash: bool = False) -> dict:
    """POST /power to the simulator's admin API; raises PowerError with a readable message."""
    from rackpanel.simulator.cluster.admin_client import AdminClient, AdminError

    try:
        return AdminClient(admin, timeout=REQUEST_TIMEOUT_SECONDS).power(action, target, crash)
    except AdminError as exc:
        raise PowerError(str(exc), exit_code=2 if exc.status else 1) from None


class PowerError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def run(args: argparse.Namespace) -> int:
    if args.compose:
        return power_compose(args)
    if args.crash and args.action == "on":
        print("rackpanel power: --crash only applies to `power off`", file=sys.stderr)
        return 2
    admin = _admin_address(args)
    try:
        answer = power(admin, args.action, args.target, crash=args.crash)
    except PowerError as exc:
        print(f"rackpanel power: {exc}", file=sys.stderr)
        return exc.exit_code
    how = "crashed" if args.crash else ("powered off" if args.action == "off" else "powered on")
    if is_link(args.target):
        how = "cut" if args.action == "off" else "restored"
    print(f"{how}: {', '.join(answer.get('affected', []))}")
    return 0


def power_compose(args: argparse.Namespace) -> int:
    """Cut or restore a target of the compose stack (a Pi = its node and its exporter)."""
    import shutil
    import subprocess

    from rackpanel.compose import compose_command, node_services
    from rackpanel.topology import load_inventory

    try:
        services = node_services(load_inventory(args.inventory), args.target)
    except ValueError as exc:
        print(f"rackpanel power: {exc}", file=sys.stderr)
        return 2
    if shutil.which("docker") is None:
        print("rackpanel power: docker is not installed (needed for --compose)", file=sys.stderr)
        return 1
    command = compose_command(args.compose_file, args.action, services)
    print("$ " + " ".join(command))
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        print(f"rackpanel power: docker compose exited with {result.returncode}", file=sys.stderr)
        return 1
    print(f"{'powered off' if args.action == 'off' else 'powered on'}: {', '.join(services)}")
    return 0
