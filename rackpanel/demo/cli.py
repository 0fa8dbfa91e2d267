"""`rackpanel demo`: run the whole demo on this machine (embedded simulator by default)"""

from __future__ import annotations

import argparse

from rackpanel.cli import not_implemented

HELP = "run the whole demo on this machine (embedded simulator by default)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    return not_implemented("demo")
