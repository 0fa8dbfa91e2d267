"""`rackpanel sim`: run the Cassandra cluster simulator for the inventory"""

from __future__ import annotations

import argparse

from rackpanel.cli import not_implemented

HELP = "run the Cassandra cluster simulator for the inventory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    return not_implemented("sim")
