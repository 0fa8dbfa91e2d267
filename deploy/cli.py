"""`rackpanel deploy bundle|check|plan|apply`: provision the Pis over SSH from the inventory."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

HELP = "provision the Pis over SSH from the inventory (bundle|check|plan|apply)"
SUDO_PASSWORD_ENV = "RACKPANEL_SUDO_PASSWORD"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rackpanel.settings import add_inventory_argument

    parser.add_argument(
        "action",
        choices=["bundle", "check", "plan", "apply"],
        help="bundle: build the wheels (and apt cache) the hosts install from, on this machine; "
        "check: can each host be deployed; plan: the phases and diffs; apply: change the hosts",
    )
    add_inventory_argument(parser)
    parser.add_argument(
        "--limit",
        nargs="+",
        metavar="HOST",
        help="only these hosts (names, or DC / DC/RACK for the nodes there)",
    )
    parser.add_argument(
        "--accept-new",
        action="store_true",
        help="trust and record host keys seen for the first time (changed keys stay refused)",
    )
    parser.add_argument(
        "--fail-fast",
        action="store_true",
        help="apply: when a host fails, start no other host",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="log the SSH library's own messages and tracebacks (they are quiet otherwise)",
    )
    parser.add_argument(
        "--apt-debs",
        metavar="DIR",
        help="bundle: make the .debs in DIR the hosts' apt cache (with deploy.apt_cache: true)",
    )
    parser.add_argument(
        "--no-pi",
        action="store_true",
        help="bundle: leave out the writers' `pi` extra (a panel without LCD plates)",
    )
    parser.add_argument(
        "--ask-sudo-pass",
        action="store_true",
        help=f"prompt for the sudo password (else ${SUDO_PASSWORD_ENV}, else sudo -n)",
    )


def _inventory_dir(option: str | None) -> Path:
    from rackpanel.topology.loader import DEFAULT_INVENTORY, ENV_INVENTORY

    path = Path(option or os.environ.get(ENV_INVENTORY) or DEFAULT_INVENTORY)
    return path.resolve().parent


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _quiet_ssh_library(debug: bool) -> None:
    """paramiko logs a traceback per failed connection: the check table says it in one line."""
    import logging

    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(name)s: %(message)s")
    else:
        logging.getLogger("paramiko").setLevel(logging.CRITICAL + 1)


def run(args: argparse.Namespace) -> int:
    import getpass
    import sys

    from rackpanel.deploy import commands
    from rackpanel.deploy.hosts import HostSelectionError, select_hosts
    from rackpanel.deploy.install import Installer
    from rackpanel.deploy.ssh import Credentials
    from rackpanel.topology import load_inventory

    _quiet_ssh_library(args.debug)
    inv = load_inventory(args.inventory)
    try:
        hosts = select_hosts(inv, args.limit)
    except HostSelectionError as exc:
        print(f"rackpanel deploy: {exc}", file=sys.stderr)
        return 2
    base = _inventory_dir(args.inventory)
    if args.action == "bundle":
        from rackpanel.deploy.make_bundle import run_bundle

        return run_bundle(inv, base, apt_debs=args.apt_debs, pi=not args.no_pi)
    password = os.environ.get(SUDO_PASSWORD_ENV)
    if args.ask_sudo_pass:
        password = getpass.getpass(f"sudo password for {inv.deploy.ssh_user}: ")
    identity = inv.deploy.identity_file
    if identity and not _resolve(base, identity).is_file():
        print(
            f"rackpanel deploy: deploy.identity_file: {_resolve(base, identity)} does not exist",
            file=sys.stderr,
        )
        return 2
    creds = Credentials(
        user=inv.deploy.ssh_user,
        identity_file=_resolve(base, identity) if identity else None,
        known_hosts=_resolve(base, inv.deploy.known_hosts),
        accept_new=args.accept_new,
        connect_timeout=inv.deploy.connect_timeout_seconds,
        sudo_password=password,
    )
    if args.accept_new:
        print(
            f"rackpanel deploy: --accept-new: host keys seen for the first time will be trusted "
            f"and recorded in {creds.known_hosts}"
        )
    installer = Installer.for_inventory(inv, base) if inv.deploy.install else None
    runner = {"check": commands.run_check, "plan": commands.run_plan, "apply": commands.run_apply}
    return runner[args.action](inv, hosts, creds, fail_fast=args.fail_fast, installer=installer)
