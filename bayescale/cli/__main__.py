"""``python -m bayescale.cli``."""

import sys

from bayescale.cli import main

sys.exit(main())
