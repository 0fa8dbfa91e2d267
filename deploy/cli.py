"""`rackpanel deploy`: provision the Pis over SSH from the inventory (check|plan|apply)"""

from __future__ import annotations

import argparse

from rackpanel.cli import not_implemented

HELP = "provision the Pis over SSH from the inventory (check|plan|apply)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    return not_implemented("deploy")
