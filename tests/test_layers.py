"""The import contract (.importlinter): lower layers never import higher ones, no two packages of
service import each other, the core never imports bots (docs/architecture.md, "Layers and the import
contract"). The same configuration is also checked against a small package tree with a back-edge, so a
contract that could never fail would be noticed. And imports sit at the top of the module unless a
`# deferred: <why>` comment says why one waits inside a function (service/cli.py excepted)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from importlinter import api  # noqa: F401  (configures import-linter's adapters)
from importlinter.application import use_cases
from importlinter.application.user_options import UserOptions

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"


def _report(options: UserOptions) -> dict[str, bool]:
    use_cases._register_built_in_contract_types()  # what `lint-imports` does before it reads contracts
    report = use_cases.create_report(options, cache_dir=None)
    return {contract.name: check.kept for contract, check in report.get_contracts_and_checks()}


def test_the_code_keeps_the_import_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))  # this checkout's service and bots, not an installed copy
    kept = _report(use_cases.read_user_options(str(CONFIG)))
    assert len(kept) == 3 and all(kept.values()), kept


def _renamed(value: Any) -> Any:
    """The contract's options with service → fakesvc and bots → fakebots."""
    if isinstance(value, str):
        return re.sub(r"\bbots\b", "fakebots", re.sub(r"\bservice\b", "fakesvc", value))
    if isinstance(value, list):
        return [_renamed(v) for v in value]
    if isinstance(value, set):
        return {_renamed(v) for v in value}
    if isinstance(value, dict):
        return {k: _renamed(v) for k, v in value.items()}
    return value


def _fake_tree(tmp_path: Path, options: UserOptions) -> None:
    """Every package the contract names, empty, under tmp_path (flows and worker too)."""
    names = {"fakebots"}
    for contract in options.contracts_options:
        for key in ("layers", "source_modules", "ancestors"):
            for line in contract.get(key, []):
                names.update(m.strip(" ()") for m in re.split(r"[|:]", line) if m.strip(" ()"))
    for name in names:
        folder = tmp_path.joinpath(*name.split("."))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").touch()


def _imports(tmp_path: Path, module: str, *imported: str) -> None:
    path = tmp_path.joinpath(*module.split("."), "__init__.py")
    path.write_text("".join(f"import {name}\n" for name in imported))


def test_the_contract_fails_on_a_back_edge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = use_cases.read_user_options(str(CONFIG))
    options = UserOptions(session_options=_renamed(real.session_options),
                          contracts_options=_renamed(real.contracts_options))
    _fake_tree(tmp_path, options)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.split(".")[0] in ("fakesvc", "fakebots")]:
        monkeypatch.delitem(sys.modules, name)
    # The right way round: wiring → pages → flows → domains → configuration → kit; the wiring uses bots.
    _imports(tmp_path, "fakesvc.app", "fakesvc.web", "fakebots")
    _imports(tmp_path, "fakesvc.web", "fakesvc.flows")
    _imports(tmp_path, "fakesvc.flows", "fakesvc.orgs", "fakesvc.analytics")
    _imports(tmp_path, "fakesvc.analytics", "fakesvc.orgs")
    _imports(tmp_path, "fakesvc.orgs", "fakesvc.config", "fakesvc.kit")
    _imports(tmp_path, "fakesvc.config", "fakesvc.kit")
    assert all(_report(options).values())

    # The kit reads an organisation (a layer upwards, and kit <-> orgs import each other); a domain
    # imports an adapter.
    _imports(tmp_path, "fakesvc.kit", "fakesvc.orgs")
    _imports(tmp_path, "fakesvc.reports", "fakebots")
    kept = _report(options)
    assert not any(kept.values()), kept

    # Each contract on its own: a domain importing the pages breaks only the layers.
    _imports(tmp_path, "fakesvc.kit")
    _imports(tmp_path, "fakesvc.reports", "fakesvc.web")
    kept = _report(options)
    assert [name for name, ok in kept.items() if not ok] == [real.contracts_options[0]["name"]], kept


# -- imports at the top of the module ----------------------------------------------------------------
# An import inside a function is kept only to defer a heavy library until first use, and says so on
# the line above with `# deferred: <why>` (one comment may head a block of such imports). service/cli.py
# is the exception: each subcommand loads its own parts on purpose (its docstring says so).
EXEMPT = {"service/cli.py"}


def undeferred(source: str) -> list[tuple[int, str]]:
    """(line, module) of each function-level import in `source` not headed by a `# deferred:` comment."""
    tree = ast.parse(source)
    lines = source.splitlines()
    import_lines = {n for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                    for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)}
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            line, headed = node.lineno - 1, False  # walk up over the block's imports and comments
            while line >= 1 and (line in import_lines or lines[line - 1].lstrip().startswith("#")):
                headed = headed or lines[line - 1].lstrip().startswith("# deferred:")
                line -= 1
            if not headed:
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                found.append((node.lineno, "." * getattr(node, "level", 0) + (module or "")))
    return found


def test_function_level_imports_say_why_they_are_deferred() -> None:
    unexplained = []
    for path in sorted([*(ROOT / "service").rglob("*.py"), *(ROOT / "bots").rglob("*.py")]):
        name = path.relative_to(ROOT).as_posix()
        if name not in EXEMPT:
            unexplained += [f"{name}:{line} {module}" for line, module in undeferred(path.read_text(encoding="utf-8"))]
    assert not unexplained, ("move these imports to the top of the module, or, for a heavy optional library, "
                             "say why on the line above with `# deferred: <why>`: " + ", ".join(unexplained))


def test_the_import_check_sees_an_unexplained_import() -> None:
    source = '''
import os


def heavy():
    # deferred: numpy takes a third of a second, only here
    import numpy
    from scipy.sparse import csr_matrix

    return numpy, csr_matrix


def light():
    # the clock
    from service.kit.clock import now

    return now


async def later():
    import json

    return json
'''
    assert undeferred(source) == [(15, "service.kit.clock"), (21, "json")]
