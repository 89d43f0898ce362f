"""Sources name the fields they judged invalid; the model keeps those names so the UI can say "invalid"."""

from __future__ import annotations

from migration_tui.model import Migration, Participant


def test_migration_keeps_the_fields_a_source_declared_invalid():
    migration = Migration.from_dict({"id": "m", "details": {"eta_s": None}, "invalid": ["details.eta_s", 5]})
    assert "details.eta_s" in migration.invalid
    assert 5 not in migration.invalid


def test_participant_keeps_declared_invalid_fields():
    participant = Participant.from_dict({"id": "p", "healthy": None, "invalid": ["healthy"]})
    assert participant.invalid == ("healthy",)
