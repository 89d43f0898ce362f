"""A PostgreSQL migration by logical replication: publication on the old cluster, subscription on the new.

Read from the servers' own catalogs (``source.py``), not from a controller's
HTTP API: it has no profile and no simulator scenario. ``[[controllers]] kind =
"pg-logical"`` blocks (and ``--pg-publisher``/``--pg-subscriber``) make its
source (``source_kind.py``).
"""

from migration_tui.systems.base import System
from migration_tui.systems.pg_logical.reading import PHASES
from migration_tui.systems.pg_logical.reading import SYSTEM as NAME

SYSTEM = System(
    name=NAME,
    description="PostgreSQL logical replication to a new cluster (initial copy, catch-up, cutover)",
    phases=PHASES,
    data_package=__name__,
    ui="migration_tui.systems.pg_logical.ui:UI",
    source="migration_tui.systems.pg_logical.source_kind:SOURCE",
)
