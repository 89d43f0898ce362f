"""The command palette provider: every action of the dashboard, from its bindings.

The same ``Binding`` data as the footer and the help screen, filtered by the
same ``check_action``, so the palette never offers what the mode forbids.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from migration_tui.ui.screens.help import allowed, declared_bindings, key_label


class DashboardCommands(Provider):
    """Lists the dashboard's actions with their key and tooltip."""

    def _commands(self) -> list[tuple[str, str, object, str]]:
        screen = self.screen
        commands = []
        listed: set[str] = set()
        for owner, binding in declared_bindings(screen):
            # One entry per action: Textual's ctrl+q is the same quit as our q.
            if not allowed(owner, binding) or binding.action in listed:
                continue
            listed.add(binding.action)
            title = f"{binding.tooltip or binding.description or binding.action} ({key_label(binding)})"
            runner = partial(owner.run_action, binding.action)  # type: ignore[attr-defined]
            commands.append((title, binding.description, runner, binding.action))
        return commands

    async def discover(self) -> Hits:
        for title, tooltip, runner, _action in self._commands():
            yield DiscoveryHit(title, runner, help=tooltip)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, tooltip, runner, _action in self._commands():
            score = matcher.match(f"{title} {tooltip}")
            if score > 0:
                yield Hit(score, matcher.highlight(title), runner, help=tooltip)  # type: ignore[arg-type]
