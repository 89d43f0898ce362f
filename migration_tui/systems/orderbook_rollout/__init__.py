"""Seed 001: the adaptive order book, rolled out pair by pair (the ``trading-service`` API, watched per pair)."""

from migration_tui.systems.base import ProfileEntry, Scenario, System

SYSTEM = System(
    name="orderbook-rollout",
    description="adaptive order book, per-pair gradual rollout",
    phases=("0%", "10%", "25%", "50%", "75%", "100%"),
    profiles=(
        ProfileEntry(
            "orderbook-rollout",
            profile="migration_tui.systems.orderbook_rollout.profile:ORDERBOOK_ROLLOUT",
            action_path="/api/v1/migrations/{id}/{action}",
            detect=False,  # the trading-service API: detection finds that one
        ),
    ),
    scenarios=(
        Scenario(
            "orderbook-rollout",
            "trading-service",
            1,
            "migration_tui.systems.orderbook_rollout.scenario:build",
            "per-pair rollout; SOLUSDT rolled back",
        ),
    ),
    data_package=__name__,
    ui="migration_tui.systems.orderbook_rollout.ui:UI",
    shown_by_pair=True,
)
