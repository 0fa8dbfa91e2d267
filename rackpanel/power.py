"""`rackpanel power`: emergency stop: power off|on a DC, a rack, a node or a DC link"""

from __future__ import annotations

import argparse

from rackpanel.cli import not_implemented

HELP = "emergency stop: power off|on a DC, a rack, a node or a DC link"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    return not_implemented("power")
