"""service/kit/fastsql.py runs SQLAlchemy's compiled statements on the driver's cursor itself, so the
installed SQLAlchemy must be one the pin in pyproject.toml allows: an upgrade past the next minor is a
decision (tests/kit and tests/inbox on both databases, then move the bound), not an accident."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _pin() -> Requirement:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    found = [Requirement(d) for d in dependencies if Requirement(d).name.lower() == "sqlalchemy"]
    assert len(found) == 1, dependencies
    return found[0]


def test_sqlalchemy_is_pinned_below_the_next_minor() -> None:
    specifier = _pin().specifier
    uppers = [Version(s.version) for s in specifier if s.operator == "<"]
    assert uppers, f"SQLAlchemy needs an upper bound in pyproject.toml, it has {specifier}"
    assert all(u.micro == 0 and u.minor > 0 for u in uppers), specifier  # "<2.2", not "<3"


def test_the_installed_sqlalchemy_is_inside_the_pin() -> None:
    installed = version("SQLAlchemy")
    specifier = _pin().specifier
    assert specifier.contains(installed, prereleases=True), (
        f"SQLAlchemy {installed} is installed but pyproject.toml allows {specifier}: service/kit/fastsql.py "
        "uses SQLAlchemy's internals; test it with this version and move the pin on purpose")
