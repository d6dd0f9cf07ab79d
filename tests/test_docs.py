"""The README's configuration table names every setting the app reads."""

from __future__ import annotations

import re
from pathlib import Path

from service.config import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text()
    aliases = {field.alias for field in Settings.model_fields.values() if field.alias}
    assert aliases, "settings are read through their environment names"
    assert sorted(a for a in aliases if f"`{a}`" not in text) == []


ROOT = README.parent
# Code, docs and packaging say what a thing is and why, never which work item brought it.
_TRACKER_WORDS = re.compile(r"\b[Ii]ssue #?\d+|\bat merge\b")


def test_no_tracker_numbers_in_code_docs_or_packaging() -> None:
    files = [ROOT / "README.md", ROOT / "pyproject.toml"]
    for folder, patterns in (("service", ("*.py", "*.html")), ("bots", ("*.py",)), ("docs", ("*.md",))):
        for pattern in patterns:
            files.extend((ROOT / folder).rglob(pattern))
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _TRACKER_WORDS.search(line)
    ]
    assert not found, "\n".join(found)
