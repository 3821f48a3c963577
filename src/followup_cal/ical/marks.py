"""Text-level reading and editing of iCalendar objects.

Parsing and re-serialising a calendar with a library changes bytes the user never touched (property order,
folding, parameters). Everything here works on the text's own lines instead, so an edit changes only the
lines it means to change: the interview marks (:func:`apply_marks`) and, for one-file calendars, the
components of one UID (:func:`component_spans`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from followup_cal.core.model import (
    INTERVIEW_CATEGORY,
    PROP_ISSUED,
    Kind,
    MarkUpdate,
    Moment,
    format_recurrence_id,
)
from followup_cal.errors import NotFound

_PHYSICAL_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_FOLD = re.compile(rb"\r?\n[ \t]")
_KIND_ORDER = {kind.value: index for index, kind in enumerate(Kind)}


@dataclass(frozen=True)
class ContentLine:
    """One logical (unfolded) content line: physical lines ``first`` up to, not including, ``stop``."""

    first: int
    stop: int
    name: str  # upper case
    params: str  # raw text between the name and the ':' (starts with ';' when not empty)
    value: str  # raw value, still escaped


@dataclass
class ComponentSpan:
    """A component that sits directly in a VCALENDAR (or stands alone): its lines and own properties."""

    name: str
    first: int  # index of the BEGIN line
    stop: int  # index after the END line
    insert_at: int  # where new properties go: the first nested BEGIN, else the END line
    props: list[ContentLine] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        for prop in self.props:
            if prop.name == name:
                return prop.value
        return None

    @property
    def uid(self) -> str | None:
        raw = self.value("UID")
        return None if raw is None else unescape_text(as_decoded(raw)).strip()


def unfold_bytes(data: bytes) -> bytes:
    """``data`` with its folded lines joined (RFC 5545 3.1), by octets, so that a fold inside a UTF-8
    sequence joins the sequence again."""
    return _FOLD.sub(b"", data)


def as_decoded(text: str) -> str:
    """Text decoded with ``surrogateescape`` as icalendar decodes it: valid UTF-8 whole, each invalid
    octet a U+FFFD (so a UID read here equals the one icalendar reads)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def unescape_text(raw: str) -> str:
    """The value of a TEXT property (RFC 5545 3.3.11) from its escaped form."""

    def one(match: re.Match[str]) -> str:
        char = match.group(1)
        return "\n" if char in "nN" else char

    return _UNESCAPE.sub(one, raw)


def escape_text(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def physical_lines(text: str) -> list[str]:
    """The lines of ``text`` with their own line endings (CRLF or LF), so joining them gives ``text``."""
    return _PHYSICAL_LINE.findall(text)


def _split_content_line(line: str) -> tuple[str, str, str]:
    """``(NAME, params, value)``; the value starts after the first ':' that is not inside quotes."""
    colon = line.find(":")
    quote = line.find('"')
    if colon >= 0 and not 0 <= quote < colon:  # the usual line: no quoted parameter before the value
        semicolon = line.find(";", 0, colon)
        name_end = colon if semicolon < 0 else semicolon
        return line[:name_end].upper(), line[name_end:colon], line[colon + 1 :]
    quoted = False
    name_end = -1
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif not quoted and char in ";:" and name_end < 0:
            name_end = index
        if not quoted and char == ":":
            if name_end < 0:
                name_end = index
            return line[:name_end].upper(), line[name_end:index], line[index + 1 :]
    return line.upper(), "", ""


def content_lines(lines: Sequence[str]) -> list[ContentLine]:
    result: list[ContentLine] = []
    current: list[str] = []
    first = 0
    for index, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if index == 0:
            body = body.lstrip("\ufeff")
        if not body and current:
            continue  # an empty line inside a folded value; icalendar skips it too
        if body[:1] in (" ", "\t") and current:
            current.append(body[1:])
            continue
        if current:
            result.append(ContentLine(first, index, *_split_content_line("".join(current))))
        current, first = [body], index
    if current:
        result.append(ContentLine(first, len(lines), *_split_content_line("".join(current))))
    return result


def component_spans(lines: Sequence[str]) -> list[ComponentSpan]:
    """The components that are direct children of a VCALENDAR, or top-level components themselves
    when the text holds no VCALENDAR (a bare VEVENT). Unbalanced BEGIN/END lines are tolerated."""
    spans: list[ComponentSpan] = []
    stack: list[ComponentSpan] = []
    for line in content_lines(lines):
        if line.name == "BEGIN":
            name = line.value.strip().upper()
            if stack and stack[-1].insert_at < 0:
                stack[-1].insert_at = line.first
            stack.append(ComponentSpan(name, line.first, -1, -1))
        elif line.name == "END":
            name = line.value.strip().upper()
            if not any(span.name == name for span in stack):
                continue
            while stack:
                span = stack.pop()
                if span.insert_at < 0:
                    span.insert_at = line.first
                span.stop = line.stop
                parent_ok = not stack or (len(stack) == 1 and stack[0].name == "VCALENDAR")
                if span.name != "VCALENDAR" and parent_ok:
                    spans.append(span)
                if span.name == name:
                    break
        elif stack:
            stack[-1].props.append(line)
    return spans


def vevent_spans(lines: Sequence[str], uid: str | None = None) -> list[ComponentSpan]:
    return [s for s in component_spans(lines) if s.name == "VEVENT" and (uid is None or s.uid == uid)]


def detect_newline(text: str) -> str:
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def fold(line: str, newline: str) -> str:
    """One content line folded at 75 octets (RFC 5545 3.1), never splitting a UTF-8 sequence."""
    pieces: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, 74
        current += char
        size += width
    pieces.append(current)
    return (newline + " ").join(pieces) + newline


# --- the ISSUED record ---------------------------------------------------------------------------------

IssuedRecord = dict[str | None, list[str]]
"""Kinds issued, by occurrence: ``None`` for a non-recurring event, else the RECURRENCE-ID text."""


def parse_issued(raw: str) -> IssuedRecord:
    """Reads ``thank-you\\,check-in@20260101T090000Z``, escaped or not (some programs write it raw)."""
    record: IssuedRecord = {}
    for item in unescape_text(raw).replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        kind, _, occurrence = item.partition("@")
        kinds = record.setdefault(occurrence.strip() or None, [])
        if kind.strip() and kind.strip() not in kinds:
            kinds.append(kind.strip())
    return record


def format_issued(record: IssuedRecord) -> str:
    items: list[str] = []
    for occurrence in sorted(record, key=lambda key: (key is not None, key or "")):
        kinds = sorted(record[occurrence], key=lambda k: (_KIND_ORDER.get(k, len(_KIND_ORDER)), k))
        if occurrence is not None and not kinds:
            items.append(f"@{occurrence}")  # this occurrence is tagged, nothing issued yet
        items.extend(kind if occurrence is None else f"{kind}@{occurrence}" for kind in kinds)
    return "\\,".join(items)


# The ISSUED line carries this parameter when the tag joined the event's own CATEGORIES line (a second
# CATEGORIES line makes khal show no category at all), so that removing the tag takes out our value only.
TAG_PARAM = "X-FOLLOWUP-CAL-TAG"
TAG_JOINED = "JOINED"
_JOINED = re.compile(rf";{TAG_PARAM}=\"?{TAG_JOINED}\"?(?=[;:]|$)", re.IGNORECASE)


def _raw_values(prop: ContentLine) -> list[str]:
    return re.split(r"(?<!\\),", prop.value)


def _is_interview(raw: str) -> bool:
    return unescape_text(raw).strip().casefold() == INTERVIEW_CATEGORY.casefold()


def _only_interview(prop: ContentLine) -> bool:
    values = _raw_values(prop)
    return len(values) == 1 and _is_interview(values[0])


def _has_interview(span: ComponentSpan) -> bool:
    return any(
        prop.name == "CATEGORIES" and any(_is_interview(v) for v in _raw_values(prop)) for prop in span.props
    )


def tag_joined(params: str) -> bool:
    """Whether the raw parameters of an ISSUED line say the tag joined the event's CATEGORIES line."""
    return bool(_JOINED.search(params))


def _join_tag(lines: Sequence[str], prop: ContentLine, newline: str) -> str:
    """The physical lines of ``prop`` with the tag appended to its values: every byte of the line stays,
    and the tag goes on a folded continuation line when the last line has no room for it (75 octets)."""
    last = lines[prop.stop - 1]
    body = last.rstrip("\r\n")
    ending = last[len(body) :] or newline
    addition = ("," if prop.value.strip() else "") + INTERVIEW_CATEGORY
    if len((body + addition).encode("utf-8", "surrogateescape")) <= 75:
        tail = body + addition + ending
    else:
        tail = body + ending + " " + addition + ending
    return "".join(lines[prop.first : prop.stop - 1]) + tail


def _unjoin_tag(lines: Sequence[str], prop: ContentLine, newline: str) -> str:
    """The physical lines of ``prop`` without the tag that :func:`_join_tag` added: the exact bytes from
    before when the tag is still where it went, else the line rebuilt without its Interview value."""
    values = _raw_values(prop)
    if values[-1] == INTERVIEW_CATEGORY:  # where _join_tag put it
        return _cut_tail(lines[prop.first : prop.stop], len(INTERVIEW_CATEGORY) + (len(values) > 1))
    ours = max(index for index, raw in enumerate(values) if _is_interview(raw))
    rest = values[:ours] + values[ours + 1 :]
    if not rest:
        return ""
    original = "".join(lines[prop.first : prop.stop])
    name = original.lstrip("\ufeff")[: len(prop.name)]
    return fold(f"{name}{prop.params}:{','.join(rest)}", newline)


def _cut_tail(physical: Sequence[str], count: int) -> str:
    """``physical`` (one folded content line) with its last ``count`` characters of content removed; a
    continuation line left empty goes too."""
    pieces = [line.rstrip("\r\n") for line in physical]
    endings = [line[len(piece) :] for line, piece in zip(physical, pieces, strict=True)]
    index = len(pieces) - 1
    while count > 0 and index >= 0:
        content_start = 1 if index > 0 else 0
        room = len(pieces[index]) - content_start
        cut = min(room, count)
        pieces[index] = pieces[index][: len(pieces[index]) - cut]
        count -= cut
        if index > 0 and len(pieces[index]) == content_start:
            del pieces[index]
            del endings[index]
        index -= 1
    return "".join(piece + ending for piece, ending in zip(pieces, endings, strict=True))


def version_rank(sequence: str | None, last_modified: str | None, dtstamp: str | None) -> tuple[int, str]:
    """Larger is newer: of two VEVENTs of one UID without RECURRENCE-ID (a merge of two exports), the
    one with the highest SEQUENCE, then the latest LAST-MODIFIED (else DTSTAMP; UTC text sorts by time)
    is the event. The raw texts are compared, so that reading and marking choose the same one."""
    try:
        number = int((sequence or "0").strip())
    except ValueError:
        number = 0
    return number, (last_modified or dtstamp or "").strip().upper()


def newest_master(spans: Sequence[ComponentSpan]) -> ComponentSpan | None:
    """The master VEVENT that counts (see version_rank); the first one in the text among equals."""
    masters = [span for span in spans if span.value("RECURRENCE-ID") is None]
    if not masters:
        return None
    ranks = [
        version_rank(span.value("SEQUENCE"), span.value("LAST-MODIFIED"), span.value("DTSTAMP"))
        for span in masters
    ]
    return masters[ranks.index(max(ranks))]


def _target_span(spans: list[ComponentSpan], recurrence_id: Moment | None) -> ComponentSpan:
    """The master VEVENT holds the marks; without a master, the occurrence's own override does."""
    master = newest_master(spans)
    if master is not None:
        return master
    if recurrence_id is not None:
        # The text may be in UTC or in the wall-clock time of its TZID (or floating), which is how
        # the occurrence was read, so either form identifies it.
        wanted = {format_recurrence_id(recurrence_id), recurrence_id.strftime("%Y%m%dT%H%M%S")}
        if not isinstance(recurrence_id, datetime):
            wanted = {recurrence_id.strftime("%Y%m%d")}
        for span in spans:
            raw = (span.value("RECURRENCE-ID") or "").strip().upper()
            if raw in wanted:
                return span
    return spans[0]


def apply_marks(data: bytes, uid: str, updates: Sequence[MarkUpdate]) -> bytes:
    """See ical.apply_marks: a text edit of the marks on the VEVENT(s) of ``uid``; nothing else changes."""
    text = data.decode("utf-8", "surrogateescape")
    lines = physical_lines(text)
    spans = vevent_spans(lines, uid)
    if not spans:
        raise NotFound(f"The calendar object holds no event with UID {uid!r}; re-read the calendar.")
    newline = detect_newline(text)
    by_target: dict[int, tuple[ComponentSpan, list[MarkUpdate]]] = {}
    for update in updates:
        target = _target_span(spans, update.recurrence_id)
        by_target.setdefault(target.first, (target, []))[1].append(update)
    # Edit from the bottom up so earlier line indexes stay valid.
    for _, (span, span_updates) in sorted(by_target.items(), reverse=True):
        _edit_span(lines, span, span_updates, newline)
    return "".join(lines).encode("utf-8", "surrogateescape")


def _edit_span(lines: list[str], span: ComponentSpan, updates: Sequence[MarkUpdate], newline: str) -> None:
    issued_props = [p for p in span.props if p.name == PROP_ISSUED]
    old: IssuedRecord = {}
    for prop in issued_props:
        for key, kinds in parse_issued(prop.value).items():
            old.setdefault(key, []).extend(k for k in kinds if k not in old.get(key, []))
    record = {key: list(kinds) for key, kinds in old.items()}
    tagging = False
    for update in updates:
        key = None if update.recurrence_id is None else format_recurrence_id(update.recurrence_id)
        if update.issued is None:
            record.pop(key, None)
        else:
            tagging = True
            record[key] = [kind.value for kind in update.issued]
    keep_record = tagging or bool(record)

    edits: list[tuple[int, int, str]] = []  # (first, stop, replacement), applied bottom-up
    joined = any(tag_joined(p.params) for p in issued_props)
    categories = [p for p in span.props if p.name == "CATEGORIES"]
    if keep_record and not _has_interview(span):
        if categories:  # the tag joins the event's own line
            edits.append((categories[0].first, categories[0].stop, _join_tag(lines, categories[0], newline)))
            joined = True
        else:
            edits.append((span.insert_at, span.insert_at, fold(f"CATEGORIES:{INTERVIEW_CATEGORY}", newline)))
    params = issued_props[0].params if issued_props else ""
    if joined and not tag_joined(params):
        params += f";{TAG_PARAM}={TAG_JOINED}"
    new_issued = fold(f"{PROP_ISSUED}{params}:{format_issued(record)}", newline)
    unchanged = (
        issued_props
        and {k: sorted(v) for k, v in old.items()} == {k: sorted(v) for k, v in record.items()}
        and params == issued_props[0].params
    )
    if keep_record and not unchanged:
        if issued_props:
            edits.append((issued_props[0].first, issued_props[0].stop, new_issued))
            edits.extend((p.first, p.stop, "") for p in issued_props[1:])
        else:
            edits.append((span.insert_at, span.insert_at, new_issued))
    if not keep_record:
        edits.extend((p.first, p.stop, "") for p in issued_props)
        # Our own CATEGORIES line goes; a tag that joined the event's line leaves it as it was.
        edits.extend((p.first, p.stop, "") for p in categories if _only_interview(p) and not joined)
        with_tag = [p for p in categories if any(_is_interview(v) for v in _raw_values(p))]
        if joined and with_tag and _only_interview(with_tag[0]) and len(categories) > 1:
            edits.append((with_tag[0].first, with_tag[0].stop, ""))  # a client split the values up
        elif joined and with_tag:
            edits.append((with_tag[0].first, with_tag[0].stop, _unjoin_tag(lines, with_tag[0], newline)))
    for first, stop, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1]), reverse=True):
        lines[first:stop] = [replacement] if replacement else []
