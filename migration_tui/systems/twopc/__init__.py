"""Seed 000: the two-phase-commit order-book cutover (the ``trading-service`` controller API)."""

from migration_tui.systems.base import ProfileEntry, Scenario, System

SYSTEM = System(
    name="2pc",
    description="two-phase-commit order-book cutover",
    phases=("preparing", "prepared", "committing", "committed"),
    profiles=(
        ProfileEntry(
            "trading-service",
            profile="migration_tui.systems.twopc.profile:TRADING_SERVICE",
            action_path="/api/v1/migrations/{id}/{action}",
            routes="migration_tui.systems.twopc.serve:ROUTES",
            metrics="migration_tui.systems.twopc.serve:metrics",
        ),
    ),
    scenarios=(
        Scenario(
            "2pc-commit",
            "trading-service",
            0,
            "migration_tui.systems.twopc.scenario:build_commit",
            "BTCUSDT two-phase commit that commits",
        ),
        Scenario(
            "2pc-abort",
            "trading-service",
            0,
            "migration_tui.systems.twopc.scenario:build_abort",
            "ETHUSDT prepare times out on marketdata",
        ),
    ),
    data_package=__name__,
    ui="migration_tui.systems.twopc.ui:UI",
)
