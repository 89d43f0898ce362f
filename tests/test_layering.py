"""The core layers never import Textual or the network clients (STYLE.md habit 5).

The import-linter contracts in pyproject.toml (``make lint``) check the static imports of
every layer; this test checks what importing the core really loads, network clients included
(which the contracts do not name), and ``config`` and ``cli``, whose imports of the UI are lazy."""

import subprocess
import sys

CORE = [
    "model",
    "events",
    "series",
    "store",
    "recording",
    "replay",
    "rules",
    "headless",
    "config",
    "cli",
    "frame",
    "feeds",
    "freshness",
    "safe_text",
]


def test_core_imports_no_ui_and_no_network_clients():
    code = (
        "import sys\n"
        + "".join(f"import migration_tui.{m}\n" for m in CORE)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'textual', 'httpx', 'redis', 'prometheus_api_client', 'psutil'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
