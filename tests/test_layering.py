"""The package's parts stand one above the other: imports only run downwards.

errors < core < ical, config < backends < run < commands. ``ical`` and ``config`` are peers that do not
import each other. Lazy imports inside functions and ``TYPE_CHECKING`` imports count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import followup_cal

PACKAGE_DIR = Path(followup_cal.__file__).parent

# The parts each part may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "root": set(),  # followup_cal/__init__.py and errors.py: below everything
    "core": {"root"},
    "ical": {"root", "core"},
    "config": {"root", "core"},
    "backends": {"root", "core", "ical", "config"},
    "run": {"root", "core", "ical", "config", "backends"},
    "commands": {"root", "core", "ical", "config", "backends", "run"},
    "main": {"root", "commands"},
}
PARTS = set(ALLOWED) - {"root", "main"}

# Libraries that do I/O or belong to a backend or the command line: the pure core never imports them.
NOT_IN_CORE = {
    "click",
    "rich",
    "icalendar",
    "caldav",
    "googleapiclient",
    "google",
    "msal",
    "keyring",
    "http",
    "socket",
    "ssl",
    "requests",
    "subprocess",
    "platformdirs",
}


def part_of_module(module: str) -> str:
    """The part that an absolute module name ``followup_cal...`` belongs to."""
    pieces = module.split(".")
    if len(pieces) == 1 or pieces[1] == "errors":
        return "root"
    if pieces[1] == "__main__":
        return "main"
    return pieces[1] if pieces[1] in PARTS else "root"


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE_DIR).with_suffix("")
    parts = [p for p in relative.parts if p != "__init__"]
    return ".".join(["followup_cal", *parts])


def imported_modules(path: Path, name: str) -> list[tuple[int, str]]:
    """Every followup_cal module that ``path`` (module ``name``) imports at any depth, as absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names if alias.name.startswith("followup_cal")]
            found += [(node.lineno, module) for module in modules]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith("followup_cal"):
                continue
            if target in ("followup_cal", *(f"followup_cal.{p}" for p in PARTS)):
                # ``from followup_cal.ical import read``: each imported name may be a module of that part
                found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, target))
    return found


def third_party_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def layering_violations(modules: list[tuple[Path, str]]) -> list[str]:
    """One line for each import of a higher part (or of a peer), for ``(file, module name)`` pairs."""
    violations = []
    for path, name in modules:
        importer = part_of_module(name)
        for line, target in imported_modules(path, name):
            imported = part_of_module(target)
            if imported != importer and imported not in ALLOWED[importer]:
                violations.append(f"{name}:{line}: {importer} imports {target} ({imported})")
    return violations


SOURCES = sorted(PACKAGE_DIR.rglob("*.py"))


def test_the_package_has_six_parts() -> None:
    folders = {p.name for p in PACKAGE_DIR.iterdir() if (p / "__init__.py").exists()}
    assert folders == PARTS


@pytest.mark.parametrize("part", sorted(PARTS))
def test_each_part_says_what_it_is_for_and_holds_nothing_else(part: str) -> None:
    tree = ast.parse((PACKAGE_DIR / part / "__init__.py").read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{part}/__init__.py has no docstring"
    assert len(tree.body) == 1, f"{part}/__init__.py holds more than its docstring"


def test_imports_only_run_downwards() -> None:
    assert layering_violations([(path, module_name(path)) for path in SOURCES]) == []


def test_the_core_does_no_io_and_knows_no_backend() -> None:
    offenders = {
        str(path.relative_to(PACKAGE_DIR)): sorted(third_party_roots(path) & NOT_IN_CORE)
        for path in SOURCES
        if part_of_module(module_name(path)) == "core"
    }
    assert {name: roots for name, roots in offenders.items() if roots} == {}


def test_the_check_catches_a_core_module_importing_a_command(tmp_path: Path) -> None:
    """The check itself can fail: a core module that imports from commands, relatively or absolutely."""
    probe = tmp_path / "probe.py"
    probe.write_text("from ..commands.cli import main\nfrom followup_cal.run import sync\n", encoding="utf-8")
    assert layering_violations([(probe, "followup_cal.core.probe")]) == [
        "followup_cal.core.probe:1: core imports followup_cal.commands.cli (commands)",
        "followup_cal.core.probe:2: core imports followup_cal.run.sync (run)",
    ]


def test_lazy_imports_count_and_peers_do_not_import_each_other(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from followup_cal.run.sync import run\n    from ..config import load\n")
    assert layering_violations([(probe, "followup_cal.ical.probe")]) == [
        "followup_cal.ical.probe:2: ical imports followup_cal.run.sync (run)",
        "followup_cal.ical.probe:3: ical imports followup_cal.config.load (config)",
    ]
