"""Google's partial responses for the stand-in: the ``fields`` parameter (``items(id,etag),nextPageToken``)
keeps only the fields it names, as the API does (developers.google.com/calendar/api/guides/performance)."""

from __future__ import annotations

from typing import Any

Fields = dict[str, "Fields | None"]


def parse_fields(text: str) -> Fields:
    """Google's ``fields`` partial-response syntax (``items(id,etag),nextPageToken``): name -> the
    selection inside its parentheses, None for the whole value."""
    selection: Fields = {}
    stack: list[Fields] = [selection]
    name = ""
    for char in text + ",":
        if char in ",()":
            if name.strip():
                stack[-1][name.strip()] = None
            if char == "(":
                inner: Fields = {}
                stack[-1][name.strip()] = inner
                stack.append(inner)
            elif char == ")":
                stack.pop()
            name = ""
        else:
            name += char
    return selection


def partial(value: Any, selection: Fields) -> Any:
    """``value`` with only the selected fields (lists: each element)."""
    if isinstance(value, list):
        return [partial(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, inner in selection.items():
        if key in value:
            kept[key] = value[key] if inner is None else partial(value[key], inner)
    return kept
