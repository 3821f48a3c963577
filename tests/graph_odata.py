"""The OData side of the Graph stand-in (tests/graph_standin.py): the ``$filter`` forms it understands
(iCalUId, or one single-value extended property), what a request asks of each event (``$select``,
``$expand`` of extended properties, the ``Prefer`` zone and page size), and query values."""

from __future__ import annotations

import copy
import re
from datetime import datetime

from graph_store import GraphError, Json, graph_value, instant, zone

DEFAULT_PAGE_SIZE = 10  # Graph's own default for calendarView
_TEXT = r"'((?:[^']|'')*)'"
ICALUID_FILTER = re.compile(rf"iCalUId eq {_TEXT}")
PROPERTY_FILTER = re.compile(
    rf"singleValueExtendedProperties/any\((\w+): \1/id eq {_TEXT} and \1/value eq {_TEXT}\)", re.IGNORECASE
)
EXPAND = re.compile(r"singleValueExtendedProperties\(\$filter=(.*)\)", re.IGNORECASE)


def _text(value: str) -> str:
    return value.replace("''", "'")


class Shape:
    """What the request asked of each event: the zone of its times, the fields, the marks expanded."""

    def __init__(self, query: dict[str, list[str]], prefer: dict[str, str]) -> None:
        self.zone_name = prefer.get("outlook.timezone", "UTC")
        zone(self.zone_name)  # an unknown zone is an error, as on Graph
        select = one(query, "$select")
        self.fields = None if select is None else {f.strip() for f in select.split(",")}
        self.expand: set[str] | None = None
        expand = one(query, "$expand")
        if expand is not None:
            match = EXPAND.fullmatch(expand)
            if match is None:
                raise GraphError(400, "BadRequest", f"Unsupported $expand: {expand}")
            self.expand = {_text(m).casefold() for m in re.findall(rf"id eq {_TEXT}", match.group(1))}
        top = one(query, "$top")
        self.page_size = int(top or prefer.get("odata.maxpagesize") or DEFAULT_PAGE_SIZE)

    def all(self, events: list[Json]) -> list[Json]:
        return [self.one(e) for e in events]

    def one(self, event: Json) -> Json:
        item = copy.deepcopy(event)
        for key in ("start", "end"):
            if isinstance(item.get(key), dict) and not item.get("isAllDay"):
                item[key] = graph_value(instant(item[key]), self.zone_name)
        properties = item.pop("singleValueExtendedProperties", None) or []
        if self.fields is not None:
            item = {k: v for k, v in item.items() if k in self.fields or k in ("id", "@odata.etag")}
        if self.expand is not None:
            chosen = [p for p in properties if p["id"].casefold() in self.expand]
            if chosen:
                item["singleValueExtendedProperties"] = chosen
        return item


def matches(event: Json, condition: str | None) -> bool:
    if condition is None:
        return True
    match = ICALUID_FILTER.fullmatch(condition)
    if match is not None:
        return bool(event.get("iCalUId") == _text(match.group(1)))
    match = PROPERTY_FILTER.fullmatch(condition)
    if match is not None:
        wanted_id, wanted_value = _text(match.group(2)).casefold(), _text(match.group(3))
        return any(
            p["id"].casefold() == wanted_id and p.get("value") == wanted_value
            for p in event.get("singleValueExtendedProperties") or []
        )
    raise GraphError(400, "ErrorInvalidUrlQueryFilter", f"The query filter '{condition}' is not supported.")


def one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def time_range(query: dict[str, list[str]]) -> tuple[datetime, datetime]:
    start, end = one(query, "startDateTime"), one(query, "endDateTime")
    if not start or not end:
        raise GraphError(400, "ErrorInvalidParameter", "startDateTime and endDateTime are required.")

    def parse(text: str) -> datetime:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=zone("UTC"))

    return parse(start), parse(end)


def prefer_header(headers: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in headers.get("prefer", "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            found[name.strip().lower()] = value.strip().strip('"')
    return found
