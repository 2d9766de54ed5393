"""The layering of DESIGN section 2, enforced by parsing every import under src/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "modelyard"

# package (first component after "modelyard") -> layer
LAYERS = {
    "errors": 0,
    "_version": 0,
    "_internal": 0,
    "storage": 1,
    "drift": 1,
    "lifecycle": 1,
    "artifacts": 2,
    "registry": 3,
    "yard": 4,
    "_live_checkpoint": 4,
    "__init__": 4,
    "testing": 5,  # may use everything; nothing in the library may use it
    "cli": 5,  # the command line: may use everything; nothing in the library may use it
    "__main__": 6,  # python -m modelyard: runs the command line
}


def _package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1] if len(parts) > 2 else [*parts[:-1], "__init__"]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            # `from modelyard import drift` imports the drift package
            if name == "modelyard":
                found += [(node.lineno, f"modelyard.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.startswith("modelyard")]


def _violations() -> list[str]:
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        own = _package_of(module)
        if own not in LAYERS:
            problems.append(f"{module}: package {own!r} has no layer; add it to LAYERS")
            continue
        for line, imported in _imports(path):
            if imported == "modelyard":
                continue
            target = _package_of(imported)
            if target == own:
                continue
            if target not in LAYERS:
                problems.append(f"{module}:{line} imports unknown {imported}")
            elif own == "errors":
                problems.append(f"{module}:{line} imports {imported}; errors imports nothing")
            elif target == "testing":
                if own != "__init__":  # the top-level namespace only exposes it, lazily
                    problems.append(f"{module}:{line} imports {imported}; only tests may")
            elif LAYERS[target] > LAYERS[own] or (
                LAYERS[target] == LAYERS[own] and LAYERS[own] not in (0, 4)
            ):
                problems.append(
                    f"{module}:{line} (layer {LAYERS[own]}) imports {imported} "
                    f"(layer {LAYERS[target]})"
                )
    return problems


def test_no_module_imports_from_a_higher_or_sibling_layer() -> None:
    assert _violations() == []


def test_the_checker_catches_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "modelyard"
    (fake / "drift").mkdir(parents=True)
    (fake / "drift" / "bad.py").write_text("from modelyard.artifacts import ArtifactStore\n")
    (fake / "storage").mkdir()
    (fake / "storage" / "worse.py").write_text("from ..registry import Registry\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", fake)
    problems = _violations()
    assert any("drift.bad:1" in p and "modelyard.artifacts" in p for p in problems)
    assert any("storage.worse:1" in p and "modelyard.registry" in p for p in problems)


def test_import_modelyard_stays_light() -> None:
    code = (
        "import sys, modelyard, modelyard.storage, modelyard.errors;"
        "heavy = ('numpy', 'pandas', 'scipy', 'sklearn', 'pyarrow');"
        "heavy = [m for m in heavy if m in sys.modules];"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
