"""The systems registry: one home per migration system, and nobody else names one."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from migration_tui import systems

PACKAGE = Path(__file__).resolve().parent.parent / "migration_tui"

#: Files outside ``systems/`` that may name a system, and why.
ALLOWED: dict[str, str] = {
    # Benchmark input: synthetic recordings shaped like seed 000's and seed 001's
    # events, written as event data (what a controller would send), not behaviour.
    "synthetic.py": "synthetic benchmark recordings carry a system name in their event data",
}


def _names() -> set[str]:
    found: set[str] = set()
    for system in systems.all_systems():
        found.add(system.name)
        found.update(entry.name for entry in system.profiles)
        found.update(scenario.name for scenario in system.scenarios)
    return found


def _string_literals(tree: ast.AST) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_every_builtin_system_is_registered_with_its_parts() -> None:
    names = [system.name for system in systems.all_systems()]
    assert names == ["2pc", "orderbook-rollout", "canary", "batch", "dual-write", "pg-logical"]
    for system in systems.all_systems():
        assert system.phases and system.description
        # pg-logical reads PostgreSQL's catalogs (its own source), not a controller's API: no profile, no simulator
        assert system.profiles and system.scenarios or system.name == "pg-logical"
        assert (
            system.data("rules.toml")
            and system.data("promql.toml")
            or system.name in ("orderbook-rollout", "pg-logical")
        )
        pieces = system.ui_pieces()
        assert pieces.panel is not None and pieces.metrics and pieces.figures is not None


def test_no_code_outside_systems_names_a_system() -> None:
    names = _names()
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("systems/") or relative in ALLOWED:
            continue
        for line, value in _string_literals(ast.parse(path.read_text(encoding="utf-8"))):
            if value in names:
                offences.append(f"migration_tui/{relative}:{line}: {value!r}")
    assert offences == [], "a system named outside migration_tui/systems/:\n" + "\n".join(offences)


def test_no_data_file_outside_systems_names_a_system() -> None:
    names = _names()
    offences = []
    for path in sorted(PACKAGE.rglob("*")):
        relative = path.relative_to(PACKAGE).as_posix()
        if path.suffix not in (".toml", ".tcss", ".json") or relative.startswith("systems/"):
            continue
        text = path.read_text(encoding="utf-8")
        offences += [
            f"migration_tui/{relative}: {name!r}" for name in names if f'"{name}"' in text or f"[{name}]" in text
        ]
    assert offences == []


def test_the_core_of_a_system_imports_neither_textual_nor_the_simulator() -> None:
    code = (
        "import sys\n"
        "from migration_tui import systems\n"
        "from migration_tui.sources.profiles import PROFILES\n"
        "from migration_tui.rules import default_rules\n"
        "[PROFILES[name] for name in PROFILES]; default_rules()\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('textual', 'migration_tui.ui', 'migration_tui.sim')))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("system", [s.name for s in systems.all_systems()])
def test_a_system_ui_lives_in_a_ui_submodule(system: str) -> None:
    known = systems.get(system)
    assert known is not None
    assert known.ui.split(":")[0].endswith(".ui")


def test_filling_the_registry_reads_no_registry() -> None:
    """A system module imports only ``systems.base``: one that reached ``sources.profiles`` (which reads the
    registry) while the registry was being filled saw it half-filled, and the rules cached from that
    lacked the later systems' rules (pg-logical's, seen flaky on the wall)."""
    code = (
        "import sys\n"
        "from migration_tui import systems\n"
        "systems.all_systems()\n"
        "print(sorted(m for m in sys.modules if m.startswith('migration_tui.sources')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_second_thread_never_sees_a_half_filled_registry(monkeypatch):
    """A replay's index worker and the screen both ask the registry at start; the one that comes
    second must wait for it to be whole (a half-filled one left a system without its rules)."""
    import importlib
    import threading
    import time

    from migration_tui import systems

    monkeypatch.setattr(systems, "_registry", {})
    monkeypatch.setattr(systems, "_ready", False)
    real_import = importlib.import_module

    def slow_import(name):
        time.sleep(0.02)  # each system's import takes a moment, as a first import does
        return real_import(name)

    monkeypatch.setattr(systems.importlib, "import_module", slow_import)
    seen: list[int] = []
    first = threading.Thread(target=systems.all_systems)
    first.start()
    time.sleep(0.03)  # the first thread is filling now
    seen.append(len(systems.all_systems()))
    first.join()
    assert seen == [len(systems.MODULES)]
