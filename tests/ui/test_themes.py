"""Theme files: the four built-in ones load, bad ones fail with a message that says where and why."""

from __future__ import annotations

import pytest

from migration_tui.feeds import LiveFeed
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.colors import ALIASES, rich_style, with_aliases
from migration_tui.ui.themes import BUILT_IN, ThemeError, available_names, load_theme, theme_dirs, theme_from_toml

GOOD = """
name = "mine"
dark = true
[colors]
primary = "#336699"
error = "#CC3333"
"""


def test_the_built_in_themes_are_found_and_valid():
    assert set(BUILT_IN) <= set(available_names())
    for name in BUILT_IN:
        theme = load_theme(name)
        assert theme.name == name
    assert load_theme("light").dark is False


def test_themes_live_in_a_folder_that_exists():
    assert any(folder.is_dir() and (folder / "dark.toml").is_file() for folder in theme_dirs())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('"#336699"', '"not-a-colour"'), "colors.primary: not a colour"),
        (GOOD.replace('name = "mine"', 'name = "other"'), "does not match the file name"),
        ("font = 3\n" + GOOD, "unknown key(s): font"),
        (GOOD.replace("primary", "primry"), "needs a [colors] table with at least primary"),
        (GOOD + '\n[variables]\nstate-okk = "#FFFFFF"\n', "unknown variable(s): state-okk"),
        ("name = ", "mine.toml"),
    ],
)
def test_bad_theme_files_say_what_is_wrong(text, message):
    with pytest.raises(ThemeError) as caught:
        theme_from_toml(text, "mine.toml", expected_name="mine")
    assert message in str(caught.value)


def test_unknown_theme_name_lists_the_available_ones():
    with pytest.raises(ThemeError) as caught:
        load_theme("no-such-theme")
    assert "dark" in str(caught.value)


def test_aliases_follow_the_theme_unless_it_overrides_them():
    variables = with_aliases({"text-error": "#FF0000", "text-success": "#00FF00", "state-ok": "#0000FF"})
    assert variables["breaker-open"] == "#FF0000"
    assert variables["state-ok"] == "#0000FF"  # the theme's own choice wins
    assert set(ALIASES) >= {"breaker-open", "state-bad", "source-stale"}
    assert rich_style(variables, "breaker-open").color.triplet.hex == "#ff0000"


def test_colorblind_theme_never_uses_red_against_green_for_ok_and_bad():
    theme = load_theme("colorblind")
    ok, bad = theme.variables["state-ok"], theme.variables["state-bad"]
    assert ok.upper() not in ("#00FF00", "#5BC98C") and bad != ok


async def test_app_starts_with_the_chosen_theme():
    app = MigrationApp(LiveFeed([]), theme="high-contrast")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "high-contrast"
        assert app.theme_variables["breaker-open"].upper() == "#FF3030"


def test_app_refuses_an_unknown_theme():
    with pytest.raises(ThemeError):
        MigrationApp(LiveFeed([]), theme="no-such-theme")


async def test_changing_theme_redraws_with_the_new_colours():
    app = MigrationApp(LiveFeed([]), theme="dark")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        before = app.dashboard.theme_generation
        app.theme = "light"
        await pilot.pause()
        await pilot.pause()
        assert app.dashboard.theme_generation > before


def test_the_packaged_copies_match_the_theme_files():
    checkout, packaged = theme_dirs()
    names = sorted(p.name for p in checkout.glob("*.toml"))
    assert names == sorted(p.name for p in packaged.glob("*.toml"))
    for name in names:
        assert (checkout / name).read_bytes() == (packaged / name).read_bytes(), name


def test_stylesheets_name_no_colours():
    import re

    from textual.widget import Widget

    import migration_tui.ui.app  # noqa: F401  (imports every screen and widget)
    from migration_tui.ui.screens.help import HelpScreen

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [cls for cls in {*subclasses(Widget), HelpScreen} if cls.__module__.startswith("migration_tui.")]
    assert len(ours) >= 10
    for cls in ours:
        css = cls.__dict__.get("DEFAULT_CSS", "")
        assert not re.search(r"#[0-9a-fA-F]{3,8}\b|\brgb\(|\bhsl\(", css), cls.__name__


async def test_no_color_strips_every_colour(monkeypatch):
    from textual.filter import Monochrome, NoColor

    monkeypatch.setenv("NO_COLOR", "1")
    app = MigrationApp(LiveFeed([]))
    assert any(isinstance(f, NoColor) for f in app._filters)
    assert not any(isinstance(f, Monochrome) for f in app._filters)
