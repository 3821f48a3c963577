"""The per-language data files (``data/languages/<code>.toml``), read and parsed once per process.

Detection reads their ``[detect]`` tables (vocabulary.py), decision dates their ``[decision]`` tables
(decision_words.py); both come from this one parse. Nothing here runs at import.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any

from followup_cal.errors import DataFileError

LANGUAGE_FOLDER = "data/languages"


@functools.cache
def language_files() -> dict[str, dict[str, Any]]:
    """Every shipped language file's contents, by language code, in the order of the codes."""
    folder = resources.files("followup_cal").joinpath(LANGUAGE_FOLDER)
    files: dict[str, dict[str, Any]] = {}
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if item.name.endswith(".toml"):
            try:
                files[item.name.removesuffix(".toml")] = tomllib.loads(item.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
                raise broken(f"{LANGUAGE_FOLDER}/{item.name}", error) from None
    return files


def broken(where: str, problem: object) -> DataFileError:
    """The error for a language file that cannot be used: followup-cal's installation is damaged."""
    return DataFileError(
        f"followup-cal's word list {where} cannot be used ({problem}): reinstall followup-cal "
        "(pip install --force-reinstall followup-cal)"
    )


def language_tables(name: str, *, first: str | None = None) -> dict[str, dict[str, Any]]:
    """The table ``name`` of every language file that has one, by language code; ``first`` leads."""
    codes = sorted(language_files(), key=lambda code: (code != first, code))
    tables: dict[str, dict[str, Any]] = {}
    for code in codes:
        table = language_files()[code].get(name)
        if isinstance(table, dict):
            tables[code] = table
    return tables
