"""The one way untrusted text becomes something a widget may show.

Names, ids, reasons, pairs and log messages come from servers and recordings.
They are never parsed as Textual/Rich markup: ``safe()`` builds a
``rich.text.Text`` literally, so ``[bold]`` or ``[@click=app.quit]`` stays
visible text. Characters that could move the cursor, change the terminal's
state or reorder what is shown (C0/C1 controls, ESC, DEL, bidi overrides and
isolates, zero-width characters) are replaced with a visible placeholder, and
length is capped so one field cannot fill the screen.

Numbers follow one convention everywhere: ``None`` because the source sent
something unusable is shown as ``invalid``; ``None`` because nothing was
reported is shown as ``—``.
"""

from __future__ import annotations

import re

from rich.style import Style
from rich.text import Text

#: Shown in place of each control, bidi or zero-width character.
PLACEHOLDER = "\ufffd"
#: Shown for a number the source sent but that cannot be trusted (NaN, inf, out of range).
INVALID = "invalid"
#: Shown for a number that nobody reported.
MISSING = "—"
#: Default cap on characters shown from one untrusted field.
DEFAULT_LIMIT = 120

_UNSAFE = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # C0, DEL, C1 (ESC is \x1b)
    "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"  # ALM, zero-width, LRM/RLM, bidi embeddings/overrides/isolates, BOM
    "\u2028\u2029"  # line and paragraph separators
    "\ud800-\udfff"  # lone surrogates (JSON "\\ud800" decodes to one; a terminal write would fail)
    "\ufdd0-\ufdef\ufffe\uffff"  # noncharacters
    "]"
)


def clean(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """A plain string safe to put on a terminal: unsafe characters replaced, length capped.

    Non-strings are turned into strings first (``None`` becomes ``—``).
    """
    if value is None:
        return MISSING
    raw = value if isinstance(value, str) else str(value)
    if len(raw) > limit:
        raw = raw[: max(0, limit - 1)] + "…"
    return _UNSAFE.sub(PLACEHOLDER, raw)


def safe(value: object, style: str | Style = "", limit: int = DEFAULT_LIMIT) -> Text:
    """Untrusted text as a literal ``Text`` (never markup), cleaned and capped."""
    return Text(clean(value, limit), style=style, no_wrap=True, end="")


def number(
    value: float | None,
    unit: str = "",
    digits: int = 1,
    invalid: bool = False,
) -> str:
    """A number for display; ``None`` is ``invalid`` when the source sent junk, else ``—``."""
    if value is None:
        return INVALID if invalid else MISSING
    if abs(value) >= 10_000 or digits == 0:
        text = f"{value:,.0f}"
    else:
        text = f"{value:.{digits}f}"
    return f"{text}{unit}"


def age(seconds: float | None) -> str:
    """An age as ``4s``, ``3m05s`` or ``2h10m``; ``—`` when there is none."""
    if seconds is None:
        return MISSING
    whole = max(0, int(seconds))
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    if whole >= 60:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole}s"


__all__ = ["PLACEHOLDER", "INVALID", "MISSING", "clean", "safe", "number", "age"]
