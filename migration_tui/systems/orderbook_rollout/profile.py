"""Seed 001's controller (``--profile orderbook-rollout``): the trading-service API with its own required endpoints."""

from migration_tui.systems.twopc.profile import ORDERBOOK_ROLLOUT_ENDPOINTS, TradingService

ORDERBOOK_ROLLOUT = TradingService(
    default_system="orderbook-rollout", name="orderbook-rollout", endpoints=ORDERBOOK_ROLLOUT_ENDPOINTS
)
