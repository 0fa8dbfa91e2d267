"""`rackpanel writer`: run one LCD client writing at the keypad-selected consistency level"""

from __future__ import annotations

import argparse

from rackpanel.cli import not_implemented

HELP = "run one LCD client writing at the keypad-selected consistency level"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    return not_implemented("writer")
