"""Seed 003: the batch schema migration with checkpoints."""

from migration_tui.systems.base import ProfileEntry, Scenario, System

SYSTEM = System(
    name="batch",
    description="batch schema migration with checkpoints",
    phases=("preparing", "migrating", "validating", "completed"),
    profiles=(
        ProfileEntry(
            "batch",
            profile="migration_tui.systems.batch.profile:BATCH",
            action_path="/api/migration/{action}",
            routes="migration_tui.systems.batch.serve:ROUTES",
            metrics="migration_tui.systems.batch.serve:metrics",
        ),
    ),
    scenarios=(
        Scenario(
            "batch",
            "batch",
            3,
            "migration_tui.systems.batch.scenario:build",
            "120k documents with checkpoints and a failure spike",
        ),
    ),
    data_package=__name__,
    ui="migration_tui.systems.batch.ui:UI",
)
