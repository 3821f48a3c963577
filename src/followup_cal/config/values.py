"""The typed readers under config.py: each takes one value of the parsed TOML and returns it checked, or
raises a ConfigError naming the file, the dotted key, the value (never one that may hold a secret) and what
was expected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from followup_cal.errors import ConfigError

MISSING: Any = object()  # a key absent from its table
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def dotted(parts: Iterable[str]) -> str:
    return ".".join(part if _BARE_KEY.fullmatch(part) else json.dumps(part) for part in parts)


def _show(value: Any) -> str:
    """A value as it would be written in TOML, shortened."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, list):
        text = "[" + ", ".join(_show(item) for item in value) + "]"
    elif isinstance(value, dict):
        text = "{...} (a table)"
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def suggest(key: str, known: Iterable[str]) -> str:
    import difflib  # only to suggest a name for a mistyped one

    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


class Reader:
    """Validation helpers that know the file name for messages."""

    def __init__(self, source: str, base_dir: Path | None) -> None:
        self.source = source
        self.base_dir = base_dir

    def fail(self, path: tuple[str, ...], value: Any, expected: str, *, secret: bool = False) -> ConfigError:
        key = dotted(path)
        if value is MISSING:
            return ConfigError(f"{self.source}: {key} is missing: expected {expected}")
        if secret:
            return ConfigError(f"{self.source}: {key}: expected {expected}")
        return ConfigError(f"{self.source}: {key} = {_show(value)}: expected {expected}")

    def check_keys(
        self, table: Mapping[str, Any], known: Iterable[str], path: tuple[str, ...], hint: str = ""
    ) -> None:
        known = tuple(known)
        for key in table:
            if key not in known:
                raise ConfigError(
                    f"{self.source}: {dotted((*path, key))}: unknown key{suggest(key, known) or hint} "
                    f"(expected one of: {', '.join(known)})"
                )

    def table(self, data: Mapping[str, Any], name: str) -> dict[str, Any]:
        value = data.get(name, MISSING)
        if value is MISSING:
            return {}
        if not isinstance(value, dict):
            raise self.fail((name,), value, f"a table: a [{name}] section")
        return value

    def addresses(self, value: Any, path: tuple[str, ...]) -> list[str]:
        expected = 'a list of e-mail addresses, e.g. ["alice@example.com"]'
        if value is MISSING:
            return []
        if not isinstance(value, list):
            raise self.fail(path, value, expected)
        result = []
        for item in value:
            if not isinstance(item, str) or "@" not in item.strip()[1:-1] or " " in item.strip():
                raise self.fail(path, value, expected)
            result.append(item.strip())
        return result

    def strings(self, value: Any, *path: str) -> list[str]:
        if value is MISSING:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise self.fail(path, value, 'a list of non-empty strings, e.g. ["coffee chat"]')
        return [item.strip() for item in value]

    def integer(
        self, table: Mapping[str, Any], path: tuple[str, ...], low: int, high: int, default: int
    ) -> int:
        value = table.get(path[-1], MISSING)
        if value is MISSING:
            return default
        # bool is a subclass of int; "true" is never a count.
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(path, value, f"a whole number from {low} to {high}")
        return value

    def boolean(self, table: Mapping[str, Any], path: tuple[str, ...], default: bool) -> bool:
        value = table.get(path[-1], MISSING)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            raise self.fail(path, value, "true or false (without quotes)")
        return value

    def text(
        self, table: Mapping[str, Any], path: tuple[str, ...], example: str, *, secret: bool = False
    ) -> str | None:
        value = table.get(path[-1], MISSING)
        if value is MISSING:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, value, f"a non-empty string, e.g. {example}", secret=secret)
        return value.strip()

    def url(self, table: Mapping[str, Any], path: tuple[str, ...], example: str) -> str | None:
        value = table.get(path[-1], MISSING)
        if value is MISSING:
            return None
        expected = f'an http:// or https:// URL, e.g. "{example}"'
        if not isinstance(value, str):
            raise self.fail(path, value, expected)
        try:
            parts = urlsplit(value.strip())
            has_password = parts.password is not None
            hostname = parts.hostname
        except ValueError:
            raise self.fail(path, value, expected) from None
        if has_password:
            raise self.fail(
                path,
                value,
                "a URL without a password in it: use password_env, password_command or keyring",
                secret=True,
            )
        if parts.scheme not in ("http", "https") or not hostname or " " in value.strip():
            raise self.fail(path, value, expected)
        return value.strip()

    def path(self, table: Mapping[str, Any], path: tuple[str, ...], example: str) -> Path | None:
        value = self.text(table, path, example)
        if value is None:
            return None
        result = Path(value).expanduser()
        if not result.is_absolute() and self.base_dir is not None:
            result = self.base_dir / result
        return result
