"""The README's configuration table names every setting the app reads."""

from __future__ import annotations

from pathlib import Path

from service.config import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text()
    aliases = {field.alias for field in Settings.model_fields.values() if field.alias}
    assert aliases, "settings are read through their environment names"
    assert sorted(a for a in aliases if f"`{a}`" not in text) == []
