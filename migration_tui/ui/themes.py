"""Themes: TOML files turned into Textual ``Theme`` objects, validated first.

Each file names its theme, says whether it is dark, gives the base colours
and may override semantic aliases (``colors.ALIASES``) under ``[variables]``.
A file that cannot be used raises ``ThemeError`` saying which file, which key
and why, instead of a traceback from deep inside Textual.

Where the files are: ``themes/`` at the top of a source checkout, else
``migration_tui/ui/theme_data/`` inside an installed package.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from migration_tui.ui.colors import ALIASES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_THEME = "dark"
BUILT_IN = ("dark", "light", "high-contrast", "colorblind")
COLOR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)


class ThemeError(ValueError):
    """A theme that cannot be used; the message says where and why."""


def theme_dirs() -> list[Path]:
    """Where theme files are looked for, first match wins."""
    here = Path(__file__).resolve().parent
    return [here.parent.parent / "themes", here / "theme_data"]


def _color(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ThemeError(f'{where}: a colour must be a string like "#1E90FF", got {type(value).__name__}')
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{where}: not a colour: {value!r}") from None
    return value


def theme_from_toml(text: str, origin: str, expected_name: str | None = None) -> Theme:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{origin}: {exc}") from None
    unknown = sorted(set(doc) - {"name", "dark", "colors", "variables"})
    if unknown:
        raise ThemeError(f"{origin}: unknown key(s): {', '.join(unknown)}")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise ThemeError(f'{origin}: needs name = "..."')
    if expected_name is not None and name != expected_name:
        raise ThemeError(f"{origin}: name {name!r} does not match the file name {expected_name!r}")
    dark = doc.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError(f"{origin}: dark must be true or false")
    colors = doc.get("colors")
    if not isinstance(colors, dict) or "primary" not in colors:
        raise ThemeError(f"{origin}: needs a [colors] table with at least primary")
    bad = sorted(set(colors) - set(COLOR_KEYS))
    if bad:
        raise ThemeError(f"{origin}: unknown colour(s): {', '.join(bad)} (known: {', '.join(COLOR_KEYS)})")
    checked = {key: _color(value, f"{origin}: colors.{key}") for key, value in colors.items()}
    variables = doc.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeError(f"{origin}: [variables] must be a table")
    unknown_aliases = sorted(set(variables) - set(ALIASES))
    if unknown_aliases:
        raise ThemeError(f"{origin}: unknown variable(s): {', '.join(unknown_aliases)} (known: {', '.join(ALIASES)})")
    checked_vars = {key: _color(value, f"{origin}: variables.{key}") for key, value in variables.items()}
    return Theme(name=name, dark=dark, variables=checked_vars, **checked)


def find_theme_file(name: str) -> Path | None:
    for folder in theme_dirs():
        path = folder / f"{name}.toml"
        if path.is_file():
            return path
    return None


def available_names() -> list[str]:
    names: set[str] = set()
    for folder in theme_dirs():
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.toml"))
    return sorted(names)


def load_theme(name: str) -> Theme:
    path = find_theme_file(name)
    if path is None:
        raise ThemeError(f"no theme named {name!r} (available: {', '.join(available_names()) or 'none found'})")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ThemeError(f"{path}: {exc.strerror}") from None
    return theme_from_toml(text, str(path), expected_name=name)


def load_all() -> list[Theme]:
    """Every theme file found (the built-in four at least)."""
    return [load_theme(name) for name in available_names()]
