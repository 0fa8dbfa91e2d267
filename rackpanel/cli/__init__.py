"""The one `rackpanel` command. Each subcommand lives in its part's own ``cli`` module.

A subcommand module provides ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. Modules are imported only to build the parser; heavy imports belong
inside ``run`` so that ``rackpanel --help`` stays fast and works on any laptop.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from rackpanel import __version__
from rackpanel.settings import ConfigError
from rackpanel.topology import InventoryError

SUBCOMMANDS: dict[str, str] = {
    "demo": "rackpanel.demo.cli",
    "panel": "rackpanel.panel.cli",
    "sim": "rackpanel.simulator.cli",
    "power": "rackpanel.cli.power",
    "repair": "rackpanel.cli.repair",
    "exporter": "rackpanel.exporter.cli",
    "writer": "rackpanel.lcd_writer.cli",
    "generate": "rackpanel.cli.generate",
    "scale": "rackpanel.cli.scale",
    "deploy": "rackpanel.deploy.cli",
}


def _module(path: str) -> ModuleType:
    return importlib.import_module(path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rackpanel",
        description="Cassandra resilience demo panel: simulator, exporter, LCD writer, "
        "Prometheus + Grafana monitoring, Pi deployment.",
    )
    parser.add_argument("--version", action="version", version=f"rackpanel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, path in SUBCOMMANDS.items():
        module = _module(path)
        sp = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sp)
        sp.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (InventoryError, ConfigError) as exc:
        print(f"rackpanel: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
