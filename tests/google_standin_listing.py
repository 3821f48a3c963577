"""events.list and events.instances of the Google stand-in (tests/google_standin.py): the time window,
``iCalUID``, ``singleEvents`` expansion, ``showDeleted``, ``syncToken`` (410 when no longer valid), paging
(``maxResults``/``nextPageToken``) and ``fields`` partial responses."""

from __future__ import annotations

import copy
from datetime import datetime

from google_partial import parse_fields, partial
from google_recurrence import Json, original_start, parse_start
from google_standin_errors import ApiError

DEFAULT_PAGE_SIZE = 250
MAX_PAGE_SIZE = 2500


def _bool(query: dict[str, list[str]], name: str) -> bool:
    return query.get(name, ["false"])[0].lower() == "true"


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


class EventListing:
    """The reading half of :class:`~google_standin.GoogleStandin`, which it is mixed into (it uses the
    stand-in's ``times``, ``timezone``, calendars and change counter)."""

    def _matching(self, calendar_id: str, query: dict[str, list[str]]) -> list[Json]:
        calendar = self._cal(calendar_id)
        single = _bool(query, "singleEvents")
        show_deleted = _bool(query, "showDeleted")
        time_min, time_max = _one(query, "timeMin"), _one(query, "timeMax")
        lo = datetime.fromisoformat(time_min) if time_min else None
        hi = datetime.fromisoformat(time_max) if time_max else None
        ical_uid = _one(query, "iCalUID")
        found: list[Json] = []
        for event in calendar.events.values():
            if ical_uid is not None and event.get("iCalUID") != ical_uid:
                continue
            cancelled = event.get("status") == "cancelled"
            if "recurringEventId" in event:  # an exception of a series
                # Listed as stored when not expanding; cancelled ones too (documented for showDeleted=false).
                if not single and self.times.overlaps(event, lo, hi):
                    found.append(event)
                continue
            if event.get("recurrence") and single:
                if cancelled:  # only the instances of a live series are listed
                    continue
                for instance in self.times.expand_overlapping(event, calendar.events, lo, hi):
                    if instance.get("status") != "cancelled" or show_deleted:
                        found.append(instance)
                continue
            if cancelled and not show_deleted:
                continue
            if event.get("recurrence") or self.times.overlaps(event, lo, hi):
                found.append(event)
        if _one(query, "orderBy") == "startTime":
            found.sort(key=lambda e: (self.times.bounds(e)[0], e["id"]))
        return found

    def _changed_since(self, calendar_id: str, token: str, query: dict[str, list[str]]) -> list[Json]:
        restricted = (
            "timeMin",
            "timeMax",
            "iCalUID",
            "orderBy",
            "updatedMin",
            "q",
            "privateExtendedProperty",
        )
        if any(name in query for name in restricted):
            raise ApiError(400, "invalid", "Sync token cannot be used with other request restrictions.")
        try:
            since = int(token.removeprefix("sync"))
        except ValueError:
            since = -1
        if not token.startswith("sync") or since < self._sync_floor or since > self._counter:
            raise ApiError(410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required.")
        calendar = self._cal(calendar_id)
        changed = [calendar.events[i] for i, n in calendar.changed.items() if n > since]
        found: list[Json] = []
        for event in changed:
            if (
                event.get("recurrence")
                and _bool(query, "singleEvents")
                and event.get("status") != "cancelled"
            ):
                found.extend(self.times.expand_overlapping(event, calendar.events, None, None))
            else:
                found.append(event)
        return found

    def _page(self, items: list[Json], query: dict[str, list[str]], extra: Json) -> Json:
        size = min(int(_one(query, "maxResults") or DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
        if size < 1:
            raise ApiError(400, "invalid", "Invalid value for maxResults.")
        token = _one(query, "pageToken")
        offset = 0
        if token:
            if not token.startswith("page") or not token[4:].isdigit():
                raise ApiError(400, "invalid", "Invalid page token.")
            offset = int(token[4:])
        page: Json = {
            "kind": "calendar#events",
            "summary": "stand-in",
            "timeZone": str(self.timezone),
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
            "items": copy.deepcopy(items[offset : offset + size]),
            **extra,
        }
        if offset + size < len(items):
            page["nextPageToken"] = f"page{offset + size}"
        else:
            page["nextSyncToken"] = f"sync{self._counter}"
        fields = _one(query, "fields")
        return partial(page, parse_fields(fields)) if fields else page

    def _list(self, calendar_id: str, query: dict[str, list[str]]) -> Json:
        token = _one(query, "syncToken")
        items = (
            self._changed_since(calendar_id, token, query) if token else self._matching(calendar_id, query)
        )
        return self._page(items, query, {})

    def _instances(self, calendar_id: str, event_id: str, query: dict[str, list[str]]) -> Json:
        master = self._stored_or_instance(calendar_id, event_id)
        stored = self._cal(calendar_id).events
        if not master.get("recurrence"):
            raise ApiError(400, "invalid", "The event is not a recurring event.")
        show_deleted = _bool(query, "showDeleted")
        original_text = _one(query, "originalStart")
        items: list[Json] = []
        if master.get("status") != "cancelled":
            if original_text:
                original = parse_start(original_text)
                candidates = self.times.expand_at(master, stored, original)
                items = [i for i in candidates if original_start(i) == original]
            else:
                time_min, time_max = _one(query, "timeMin"), _one(query, "timeMax")
                lo = datetime.fromisoformat(time_min) if time_min else None
                hi = datetime.fromisoformat(time_max) if time_max else None
                items = self.times.expand_overlapping(master, stored, lo, hi)
            items = [i for i in items if show_deleted or i.get("status") != "cancelled"]
        return self._page(items, query, {})
