"""The import rules of docs/architecture.md, checked on the source: a new import breaking one fails here."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Folder → the import name its modules have once installed.
PACKAGES = {"proxy": "imgedge.proxy", "cache": "imgedge.cache", "generator": "imgedge.generator"}
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}

# Package prefix → prefixes it must never import.
FORBIDDEN = {
    "imgedge.cache": ("imgedge.proxy", "imgedge.generator"),
    "imgedge.proxy": ("imgedge.generator",),
    "imgedge.generator": ("imgedge.proxy",),
    "benchmarks": ("imgedge.proxy", "imgedge.generator", "imgedge.cache"),
}
# Packages clients install without the server: the standard library and these only.
LIGHT = {
    "imgedge.client": (),
    "imgedge.errors": (),
    "imgedge.formats": (),
    "imgedge.origin_protocol": ("imgedge.provenance",),
    "imgedge.progress": (),
    "imgedge.provenance": (),
    "imgedge.subcommands": (),
    "imgedge.netcheck": (),
    "imgedge.web.uvicorn_args": (),
    "imgedge.url": ("imgedge.errors", "imgedge.formats", "imgedge.url"),
}


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[0] in PACKAGES:
        parts[0] = PACKAGES[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for top in ("imgedge", *PACKAGES, "benchmarks"):
        for path in sorted((ROOT / top).rglob("*.py")):
            # imgedge/proxy and friends are links to the top-level folders: each file is seen once.
            if top == "imgedge" and path.relative_to(ROOT / top).parts[0] in PACKAGES:
                continue
            # Hidden folders are virtualenvs and caches (benchmarks/.venv-thumbor), not the project's code.
            if any(part.startswith(".") for part in path.relative_to(ROOT).parts):
                continue
            yield path


def imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations() -> Iterator[str]:
    for path in source_files():
        module = module_name(path)
        where = path.relative_to(ROOT)
        for line, imported in imports(path):
            top = imported.split(".")[0]
            if top in PACKAGES:
                yield f"{where}:{line} imports {imported!r}: use {PACKAGES[top]}…, the installed name"
            for owner, forbidden in FORBIDDEN.items():
                if within(module, owner) and any(within(imported, f) for f in forbidden):
                    yield f"{where}:{line} ({owner}) must not import {imported}"
            for owner, allowed in LIGHT.items():
                if (
                    within(module, owner)
                    and top not in STDLIB
                    and not any(within(imported, a) for a in allowed)
                ):
                    yield f"{where}:{line} ({owner} is installed without the server) imports {imported}"


def test_import_rules_hold() -> None:
    assert list(violations()) == []


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        ("cache/keys.py", "from imgedge.proxy.app import create_app\n", "must not import"),
        ("generator/app.py", "import imgedge.proxy.errors\n", "must not import"),
        ("imgedge/url/spec.py", "import pyvips\n", "installed without the server"),
        ("benchmarks/run.py", "from proxy.app import create_app\n", "the installed name"),
    ],
)
def test_a_broken_rule_is_reported(
    module: str, source: str, broken: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_root = tmp_path / "repo"
    target = fake_root / module
    target.parent.mkdir(parents=True)
    target.write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    for top in ("imgedge", *PACKAGES, "benchmarks"):
        (fake_root / top).mkdir(exist_ok=True)
    found = list(violations())
    assert len(found) == 1 and broken in found[0], found
