"""``python -m bayescale.cli``."""

import sys

from bayescale.cli import main

if __name__ == "__main__":
    sys.exit(main())
