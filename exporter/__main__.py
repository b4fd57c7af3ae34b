"""`python -m exporter RUN_DIR_OR_CHECKPOINT [--name NAME] [--out DIR] [--html FILE]`."""

import sys

from .cli import main

sys.exit(main())
