"""``migration-tui replay FILE`` opened on the fleet view, for measure_tui.py (which can only send ``q``).

    python benchmarks/_replay_fleet.py FILE

The same app, feed and dashboard as ``run_replay``; ``f`` is pressed at start.
"""

from __future__ import annotations

import sys

from migration_tui.feeds import ReplayFeed
from migration_tui.ui.app import MigrationApp


class OnFleet(MigrationApp):
    def on_mount(self) -> None:
        # This runs before the app's own on_mount attaches the feed; open the fleet after it.
        self.call_after_refresh(self.dashboard.action_fleet)


def main() -> int:
    OnFleet(ReplayFeed(sys.argv[1], keep_index=True)).run()  # as run_replay makes it
    return 0


if __name__ == "__main__":
    sys.exit(main())
