"""Seed 004: the event store moved to object storage by dual write."""

from migration_tui.systems.base import ProfileEntry, Scenario, System

SYSTEM = System(
    name="dual-write",
    description="event store moved by dual write",
    phases=("legacy", "dual_write", "new_read_path", "new_only"),
    profiles=(
        ProfileEntry(
            "dual-write",
            profile="migration_tui.systems.dual_write.profile:DUAL_WRITE",
            action_path="/api/v1/migration/{action}",
            routes="migration_tui.systems.dual_write.serve:ROUTES",
            metrics="migration_tui.systems.dual_write.serve:metrics",
        ),
    ),
    scenarios=(
        Scenario(
            "dual-write",
            "dual-write",
            4,
            "migration_tui.systems.dual_write.scenario:build",
            "legacy -> dual_write -> new_read_path -> new_only",
        ),
    ),
    data_package=__name__,
    ui="migration_tui.systems.dual_write.ui:UI",
)
