import pytest

from migration_tui.cli import build_parser
from migration_tui.config import ConfigError, build_settings


def test_precedence_cli_over_env_over_file(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('controller = "http://file"\nprometheus = "http://file-prom"\nredis = "redis://file"\n')
    env = {"MIGRATION_TUI_PROMETHEUS": "http://env-prom", "MIGRATION_TUI_REDIS": "redis://env"}
    s = build_settings({"redis": "redis://cli", "controller": None}, env=env, config_path=cfg)
    assert (s.controller, s.prometheus, s.redis) == ("http://file", "http://env-prom", "redis://cli")


def test_token_comes_from_env_or_file_never_from_cli(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('token = "from-file"\n')
    assert build_settings({"token": "from-cli"}, env={}, config_path=cfg).token == "from-file"
    assert build_settings({}, env={"MIGRATION_TUI_TOKEN": "from-env"}, config_path=cfg).token == "from-env"
    s = build_settings({}, env={"MIGRATION_TUI_TOKEN": "hunter2"}, config_path=tmp_path / "none.toml")
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.redacted())


def test_there_is_no_token_flag():
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["watch", "--controller", "http://x", "--token", "t"])


@pytest.mark.parametrize(
    "text, message",
    [("nonsense = 1\n", "unknown key"), ("controller = [", "c.toml"), ("poll_interval_s = -1\n", "poll_interval_s")],
)
def test_bad_config_files_are_clear_errors(tmp_path, text, message):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        build_settings({}, env={}, config_path=cfg)


def test_explicit_missing_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        build_settings({"config": str(tmp_path / "missing.toml")}, env={})


def test_audit_log_from_env_over_file(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('audit_log = "/from/file.jsonl"\n')
    assert build_settings({}, env={}, config_path=cfg).audit_log == "/from/file.jsonl"
    env = {"MIGRATION_TUI_AUDIT_LOG": "/from/env.jsonl"}
    assert build_settings({}, env=env, config_path=cfg).audit_log == "/from/env.jsonl"
    assert build_settings({}, env={}, config_path=tmp_path / "none.toml").audit_log is None


def test_default_audit_path_is_under_the_user_state_dir():
    from pathlib import Path

    import platformdirs

    from migration_tui.actions import default_audit_path

    assert default_audit_path().parent == Path(platformdirs.user_state_dir("migration-tui"))
