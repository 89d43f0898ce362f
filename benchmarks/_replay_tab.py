"""``migration-tui replay FILE`` opened on another tab, for measure_tui.py (which can only send ``q``).

    python benchmarks/_replay_tab.py FILE [TAB]   # TAB: overview, participants, breakers, metrics, host, log

The same app, feed and screen as ``run_replay``; only the tab shown at start differs.
"""

from __future__ import annotations

import sys

from migration_tui.feeds import ReplayFeed
from migration_tui.ui.app import MigrationApp


class OnTab(MigrationApp):
    start_tab = "overview"

    def on_mount(self) -> None:
        # Textual calls every on_mount up the class tree (this one first, then the app's,
        # which pushes the dashboard); the tab switch waits for the next refresh.
        self.call_after_refresh(self.dashboard.action_show_tab, self.start_tab)


def main() -> int:
    app = OnTab(ReplayFeed(sys.argv[1], keep_index=True))  # as run_replay makes it
    app.start_tab = sys.argv[2] if len(sys.argv) > 2 else "overview"
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
