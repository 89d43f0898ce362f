from __future__ import annotations

import json

from rich.text import Text

from migration_tui.safe_text import INVALID, MISSING, PLACEHOLDER, age, clean, number, safe


def test_markup_stays_literal():
    shown = safe("[bold red]x[/] [@click=app.quit]q[/]")
    assert isinstance(shown, Text)
    assert shown.plain == "[bold red]x[/] [@click=app.quit]q[/]"
    assert shown.spans == []


def test_control_bidi_and_zero_width_characters_are_replaced():
    hostile = "a\x1b[2Jb\x07c\x9bd\x7fe\u202ef\u2066g\u200bh\ufeffi\u2028j"
    cleaned = clean(hostile)
    assert not any(ch in cleaned for ch in "\x1b\x07\x9b\x7f\u202e\u2066\u200b\ufeff\u2028")
    assert (
        cleaned
        == f"a{PLACEHOLDER}[2Jb{PLACEHOLDER}c{PLACEHOLDER}d{PLACEHOLDER}e{PLACEHOLDER}f{PLACEHOLDER}g{PLACEHOLDER}h{PLACEHOLDER}i{PLACEHOLDER}j"
    )


def test_length_is_capped_with_an_ellipsis():
    cleaned = clean("Z" * 10_000, limit=50)
    assert len(cleaned) == 50
    assert cleaned.endswith("…")


def test_plain_text_passes_unchanged():
    assert clean("BTCUSDT éü 日本") == "BTCUSDT éü 日本"


def test_numbers_say_invalid_or_missing():
    assert number(None, invalid=True) == INVALID
    assert number(None) == MISSING
    assert number(12.345, " ms", 1) == "12.3 ms"
    assert number(1_234_567.0) == "1,234,567"


def test_ages():
    assert age(None) == MISSING
    assert age(4.9) == "4s"
    assert age(185) == "3m05s"
    assert age(7800) == "2h10m"


def test_surrogates_and_noncharacters_are_replaced_and_encodable():
    # json.loads('"\\ud800"') yields a lone surrogate; written as-is it would make the
    # terminal write raise UnicodeEncodeError. Noncharacters have no business on screen.
    hostile = json.loads('"a\\ud800b\\udfffc"') + "\ufffe\uffff\ufdd0d"
    cleaned = clean(hostile)
    assert cleaned == f"a{PLACEHOLDER}b{PLACEHOLDER}c{PLACEHOLDER * 3}d"
    cleaned.encode("utf-8")  # raises if anything unencodable survived
