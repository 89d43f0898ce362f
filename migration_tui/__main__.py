"""``python -m migration_tui`` runs the command line."""

import sys

from migration_tui.cli import main

sys.exit(main())
