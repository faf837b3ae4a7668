"""`python -m molt_desktop` runs the command line (see cli.py)."""

import sys

from molt_desktop.cli import main

sys.exit(main())
