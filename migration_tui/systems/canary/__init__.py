"""Seed 002: the heartbeat service's canary traffic split."""

from migration_tui.systems.base import ProfileEntry, Scenario, System

SYSTEM = System(
    name="canary",
    description="heartbeat service canary traffic split",
    phases=("parallel_run", "canary_10", "canary_25", "canary_50", "full_100"),
    profiles=(
        ProfileEntry(
            "canary",
            profile="migration_tui.systems.canary.profile:CANARY",
            action_path="/api/canary/{action}",
            routes="migration_tui.systems.canary.serve:ROUTES",
            metrics="migration_tui.systems.canary.serve:metrics",
        ),
    ),
    scenarios=(
        Scenario(
            "canary",
            "canary",
            2,
            "migration_tui.systems.canary.scenario:build",
            "canary 10/25/50/100 % with a bump at 25 %",
        ),
    ),
    data_package=__name__,
    ui="migration_tui.systems.canary.ui:UI",
)
