"""Semantic colour names and the word + symbol every state carries.

Widgets never name a colour: they name a meaning (``state-bad``,
``breaker-open``) and the theme decides the colour. The aliases below are
added to every theme's CSS variables (a theme file may override any of them),
so ``$breaker-open`` works in any stylesheet and ``rich_style`` gives the same
colour for Rich ``Text`` drawn by hand (DataTable cells, sparklines).

No state is told by colour alone: ``mark`` pairs each level with a symbol and
the caller adds a word, so the colorblind and NO_COLOR views say the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from rich.style import Style
from textual.color import Color, ColorParseError

#: Semantic alias -> the theme variable it defaults to.
ALIASES: dict[str, str] = {
    "state-ok": "text-success",
    "state-warn": "text-warning",
    "state-bad": "text-error",
    "state-info": "text-primary",
    "state-muted": "foreground-muted",
    "breaker-open": "text-error",
    "breaker-half-open": "text-warning",
    "breaker-closed": "text-success",
    "source-stale": "text-warning",
    "source-error": "text-error",
    "phase-done": "text-success",
    "phase-current": "text-accent",
    "phase-todo": "foreground-muted",
    "phase-failed": "text-error",
    "spark-line": "text-primary",
    "spark-over": "text-error",
    "progress-done": "text-primary",
    "progress-todo": "foreground-muted",
}

#: Level -> the symbol shown before its word (the colour is a bonus, never the message).
MARKS: dict[str, str] = {
    "ok": "✔",
    "warn": "▲",
    "bad": "✖",
    "info": "●",
    "muted": "·",
}


def with_aliases(variables: Mapping[str, str]) -> dict[str, str]:
    """The theme's variables plus each semantic alias the theme did not set itself."""
    out = dict(variables)
    for alias, target in ALIASES.items():
        if alias not in out and target in out:
            out[alias] = out[target]
    return out


@lru_cache(maxsize=256)
def _style(value: str, background: str, bold: bool) -> Style:
    try:
        color = Color.parse(background) + Color.parse(value)
    except ColorParseError:
        return Style(bold=bold)
    return Style(color=color.rich_color, bold=bold)


def rich_style(variables: Mapping[str, Any], alias: str, bold: bool = False) -> Style:
    """A Rich style for a semantic alias under the current theme (plain if unknown)."""
    value = variables.get(alias) or variables.get(ALIASES.get(alias, ""), "")
    if not isinstance(value, str) or not value:
        return Style(bold=bold)
    background = variables.get("background", "#000000")
    return _style(value, background if isinstance(background, str) else "#000000", bold)


def mark(level: str) -> str:
    return MARKS.get(level, "?")


def level_alias(level: str) -> str:
    return {"ok": "state-ok", "warn": "state-warn", "bad": "state-bad", "info": "state-info"}.get(level, "state-muted")
