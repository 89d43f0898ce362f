"""A PostgreSQL migration by logical replication: publication on the old cluster, subscription on the new.

Read from the servers' own catalogs (``source.py``), not from a controller's
HTTP API: it has no profile and no simulator scenario. ``[[controllers]] kind =
"pg-logical"`` blocks (and ``--pg-publisher``/``--pg-subscriber``) make its
source (``source_kind.py``).
"""

from migration_tui.systems.base import System

# Only ``systems.base`` is imported here: the registry imports this module while it is being filled,
# and a module that reaches ``sources.profiles`` from here would read the registry half-filled.
NAME = "pg-logical"
PHASES = ("initial copy", "catching up", "streaming", "ready for cutover")

SYSTEM = System(
    name=NAME,
    description="PostgreSQL logical replication to a new cluster (initial copy, catch-up, cutover)",
    phases=PHASES,
    data_package=__name__,
    ui="migration_tui.systems.pg_logical.ui:UI",
    source="migration_tui.systems.pg_logical.source_kind:SOURCE",
)
