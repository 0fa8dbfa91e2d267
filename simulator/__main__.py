"""``python -m simulator`` = ``rackpanel sim``."""

import sys

from rackpanel.cli import main

if __name__ == "__main__":
    sys.exit(main(["sim", *sys.argv[1:]]))
