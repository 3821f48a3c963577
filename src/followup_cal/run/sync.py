"""One run: read each calendar group, detect, plan, reconcile, write, report.

A *group* is a calendar that receives reminders (its *target*) with the calendars whose interviews it
receives them for (its *sources*). Without ``reminders_to`` a calendar is its own target and source.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from followup_cal.backends.base import (
    CalendarBackend,
    TokenFromListing,
    TracksChanges,
    VouchesForOwnWrites,
)
from followup_cal.core.settings import Settings
from followup_cal.errors import BackendError, FollowupCalError
from followup_cal.run.group import Group
from followup_cal.run.sync_state import (
    LOOKAHEAD,
    SettledGroup,
    SyncCache,
    group_fingerprint,
    instant,
    stable_until,
)

# The deciding core (detect, plan, reconcile, writes) is imported where a group is read: a sync that
# finds nothing changed needs none of it.
if TYPE_CHECKING:
    from followup_cal.core.detect import Detection
    from followup_cal.core.model import Event, Listing, Moment, Problem
    from followup_cal.core.plan import InterviewPlan
    from followup_cal.core.reconcile import Action
    from followup_cal.run.writes import Progress

log = logging.getLogger(__name__)

MAX_REPLANS = 3


@dataclass
class Analysis:
    """Everything one group's run knows before it writes; ``status`` shows it."""

    group: Group
    plans: list[InterviewPlan] = field(default_factory=list)
    detections: dict[str, Detection] = field(default_factory=dict)  # by source key, every event read
    reminders: list[Event] = field(default_factory=list)
    gone: dict[str, str] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    next_entry: Moment | None = None  # the first event past the window's end, when read with a lookahead
    marks_lost: bool = False  # the calendar shows that a client dropped followup-cal's marks


@dataclass
class RunReport:
    changes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # calendar -> message
    analyses: list[Analysis] = field(default_factory=list)
    marks_lost: list[str] = field(default_factory=list)  # calendars that drop marks, told in runs that write


def calendar_groups(settings: Settings, only: Sequence[str] = ()) -> list[Group]:
    sources: dict[str, list[str]] = defaultdict(list)
    for name, calendar in settings.calendars.items():
        if only and name not in only:
            continue
        sources[calendar.reminders_to or name].append(name)
    return [Group(target, tuple(names)) for target, names in sources.items()]


def window(settings: Settings, now: datetime) -> tuple[datetime, datetime]:
    rules = settings.rules
    return now - timedelta(days=rules.window_past_days), now + timedelta(days=rules.window_future_days)


def parse_recurrence_id(text_value: str | None) -> Moment | None:
    if text_value is None:
        return None
    if "T" in text_value:
        return datetime.strptime(text_value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return datetime.strptime(text_value, "%Y%m%d").date()


def analyse(
    group: Group,
    backends: Mapping[str, CalendarBackend],
    settings: Settings,
    now: datetime,
    *,
    clean: bool = False,
    lookahead: timedelta = timedelta(0),
) -> Analysis:
    """Reads the group's calendars and decides the actions: a sync's, or with ``clean`` the removal of
    every unedited reminder and tag (which needs no detection, planning or lookups).

    With a ``lookahead`` the calendars are read that much past the window's end, only to learn when the
    next event enters the window (``next_entry``); what lies there is otherwise left out.
    """
    preparing = None
    if not clean:  # the deciding core gets ready while the calendars are read (a server's answer takes
        # a while to come: its import and word lists cost no wall time then)
        preparing = threading.Thread(target=_prepare_deciding_core, daemon=True)
        preparing.start()
    start, end = window(settings, now)
    analysis = Analysis(group)
    listings = {}
    try:
        for name in dict.fromkeys((*group.sources, group.target)):
            listing = backends[name].list_window(start, end + lookahead, settings.timezone)
            if lookahead:
                listing = _within(listing, end, settings.timezone, analysis)
            listings[name] = listing
            analysis.problems.extend(listing.problems)
    finally:
        if preparing is not None:
            preparing.join()  # before the word lists are needed (not built twice), also after a failed read
    from followup_cal.core.detect import Detection, detect, detect_all
    from followup_cal.core.model import Listing
    from followup_cal.core.plan import plan_interviews
    from followup_cal.core.reconcile import plan_clean, reconcile
    from followup_cal.core.unmarked import derived_uids, judge, looks_derived, marks_lost, recognise
    from followup_cal.run.duplicates import drop_duplicate_copies

    # A reminder a client re-saved without its marks is known by its UID (core/unmarked.py). Only when
    # an object of that shape lacks its marks are the interviews' reminder UIDs worked out.
    if any(e.reminder is None and looks_derived(e.uid) for got in listings.values() for e in got.events):
        derived = derived_uids(e for name in group.sources for e in listings[name].events)
        listings = {
            name: Listing(recognise(got.events, derived), got.problems) for name, got in listings.items()
        }
    analysis.reminders = [e for e in listings[group.target].events if e.reminder is not None]
    if clean:
        analysis.events = [e for name in group.sources for e in listings[name].events if e.reminder is None]
        analysis.reminders = judge(analysis.reminders, [], analysis.events, settings)
        analysis.actions = plan_clean(analysis.events, analysis.reminders)
        return analysis
    analysis.problems.extend(drop_duplicate_copies(listings, group.sources))
    interviews: list[Event] = []
    read = [event for name in group.sources for event in listings[name].events if event.reminder is None]
    # A reminder without marks whose interview is not in view is no interview and no neighbour.
    judged = [event for event in read if not looks_derived(event.uid)]
    # All at once: the sessions of one interview day are judged together.
    detected = dict(zip(map(id, judged), detect_all(judged, settings), strict=True))
    for event in read:
        analysis.events.append(event)
        if id(event) not in detected:
            analysis.detections[event.source_key] = Detection(False, "a followup-cal reminder")
            continue
        detection = detected[id(event)]
        analysis.detections[event.source_key] = detection
        if detection.is_interview:
            interviews.append(event)
        else:
            analysis.gone[event.source_key] = detection.reason
            if detection.evidence_for:  # a near miss: say why it did not count (-v)
                log.info("not an interview: %r: %s", event.summary[:80], detection.reason)
    for key in sorted(
        {r.reminder.source for r in analysis.reminders if r.reminder} - analysis.detections.keys()
    ):
        found = _look_up(key, group, backends, settings)
        if found is None:
            analysis.gone[key] = "interview deleted"
        elif isinstance(found, Event):
            detection = detect(found, settings)
            analysis.detections[key] = detection
            if detection.is_interview:
                interviews.append(found)
            else:
                analysis.gone[key] = detection.reason
    analysis.plans = plan_interviews(interviews, settings)
    analysis.reminders = judge(analysis.reminders, analysis.plans, analysis.events, settings)
    analysis.marks_lost = marks_lost(analysis.plans, analysis.reminders)
    analysis.actions = reconcile(analysis.plans, analysis.reminders, analysis.gone, settings, now)
    return analysis


def _prepare_deciding_core() -> None:
    """Imports the deciding core and builds the detection and decision word lists of every language."""
    try:
        from followup_cal.core import detect, plan, reconcile, unmarked  # noqa: F401
        from followup_cal.core.decision_words import grammar
        from followup_cal.core.vocabulary import vocabulary

        vocabulary()
        grammar()
    except Exception:  # the run meets the same error where it needs them, and says it
        log.debug("preparing the deciding core failed", exc_info=True)


def _within(listing: Listing, end: datetime, tz: ZoneInfo, analysis: Analysis) -> Listing:
    """The events of ``listing`` that start before ``end``; the earliest start of the others goes to
    ``analysis.next_entry``."""
    from followup_cal.core.model import Listing

    kept = Listing(problems=listing.problems)
    for event in listing.events:
        start = instant(event.start, tz)
        if start < end:
            kept.events.append(event)
        elif analysis.next_entry is None or start < instant(analysis.next_entry, tz):
            analysis.next_entry = event.start
    return kept


def _look_up(
    key: str, group: Group, backends: Mapping[str, CalendarBackend], settings: Settings
) -> Event | str | None:
    """The interview a reminder points at, None when confirmed gone, or a string when it cannot tell."""
    from followup_cal.core.model import split_source_key

    uid, rid_text = split_source_key(key)
    try:
        rid = parse_recurrence_id(rid_text)
    except ValueError:
        return "unreadable source mark"
    for name in group.sources:
        try:
            found = backends[name].find(uid, rid, settings.timezone)
        except BackendError as error:
            log.warning("could not look up interview %s in %s: %s", uid, name, error)
            return "lookup failed"
        if found is not None:
            return found
    return None


def run(
    settings: Settings,
    backends: Mapping[str, CalendarBackend],
    *,
    now: datetime,
    dry_run: bool = False,
    clean: bool = False,
    only: Sequence[str] = (),
    report: Callable[[str], None] = lambda line: None,
    force: bool = False,
    cache: SyncCache | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Syncs (or cleans) every group; a failing group is recorded and the others go on.

    A group whose run would remove most of its reminders is refused (see ``guard``) unless ``force``.
    With a ``cache`` (see ``sync_state``) a group whose calendars did not change since it last needed
    nothing is not read again; ``progress`` hears of each write.
    """
    result = RunReport()
    for group in calendar_groups(settings, only):
        try:
            tokens = None
            if cache is not None and not dry_run and not clean:
                settled, tokens = check_settled(group, backends, settings, now, cache)
                if settled is not None:
                    result.problems.extend(settled.problems)
                    continue
            from followup_cal.core.reconcile import Mark
            from followup_cal.run.guard import check_removals
            from followup_cal.run.writes import Replan, describe, execute

            checked = tokens
            lookahead = LOOKAHEAD if checked is not None else timedelta(0)
            for _round in range(MAX_REPLANS):
                analysis = analyse(group, backends, settings, now, clean=clean, lookahead=lookahead)
                tokens = listing_tokens(checked, group, backends) if checked is not None else None
                if dry_run:
                    for action in analysis.actions:
                        line = describe(action, settings, dry_run=True)
                        if line and isinstance(action, Mark) and line.endswith(" as an interview"):
                            found = analysis.detections.get(action.interview.source_key)
                            line += f" ({found.reason})" if found else ""
                        if line:
                            report(f"{group.target}: {line}")
                    break
                check_removals(analysis.actions, len(analysis.reminders), force)
                if cache is not None and tokens is not None and not analysis.actions:
                    cache.remember(group.target, _settled_state(analysis, tokens, settings, now))
                elif cache is not None:
                    cache.forget(group.target)
                try:
                    executed = execute(analysis.actions, group, backends, settings, report, progress)
                    # Told only in a run that writes: the next one, with nothing to do, stays quiet.
                    marks_lost = executed.marks_dropped or (analysis.marks_lost and analysis.actions)
                    if marks_lost:
                        result.marks_lost.append(group.target)
                    if cache is not None and tokens is not None and analysis.actions:
                        # Settled by its own writes, which it vouches for; not when marks went missing.
                        vouched = (
                            _own_writes(group, backends) if executed.as_planned and not marks_lost else None
                        )
                        if vouched is not None:
                            cache.remember(
                                group.target, _settled_state(analysis, tokens, settings, now, vouched)
                            )
                    break
                except Replan:
                    log.info("%s changed while syncing; reading it again", group.target)
            else:
                raise BackendError(
                    f"calendar '{group.target}' kept changing while followup-cal wrote to it; try again later"
                )
            result.analyses.append(analysis)
            result.problems.extend(analysis.problems)
        except FollowupCalError as error:
            result.failures[group.target] = str(error)
    return result


def settled_may_hold(group: Group, settings: Settings, now: datetime, cache: SyncCache) -> bool:
    """Whether the cache holds a settled state of the group that still holds, unless a calendar changed
    (same settings and program, its time not up): without it a run reads in full anyway."""
    return _known(group, settings, now, cache) is not None


def _known(group: Group, settings: Settings, now: datetime, cache: SyncCache) -> SettledGroup | None:
    known = cache.settled(group.target)
    names = list(dict.fromkeys((*group.sources, group.target)))
    if known is not None and not known.holds(group_fingerprint(settings, names), now):
        return None
    return known


def check_settled(
    group: Group, backends: Mapping[str, CalendarBackend], settings: Settings, now: datetime, cache: SyncCache
) -> tuple[SettledGroup | None, dict[str, str] | None]:
    """The group's settled state when it still holds (nothing changed: skip the group), and each of its
    calendars' current change token (None when one cannot say: the cache is not used; a calendar whose
    listing answers its token is left out until the read, see ``listing_tokens``). A settled state
    checked past the writes it vouched for is remembered with the new tokens."""
    settled, tokens = _settled(group, backends, settings, now, cache)
    if settled is not None and (tokens != settled.tokens or settled.vouched):
        cache.remember(group.target, replace(settled, tokens=tokens or {}, vouched={}))
    return settled, tokens


def _settled(
    group: Group, backends: Mapping[str, CalendarBackend], settings: Settings, now: datetime, cache: SyncCache
) -> tuple[SettledGroup | None, dict[str, str] | None]:
    names = list(dict.fromkeys((*group.sources, group.target)))
    known = _known(group, settings, now, cache)
    tokens: dict[str, str] = {}
    unchanged = known is not None
    for name in names:
        backend = backends[name]
        if not isinstance(backend, TracksChanges):
            return None, None
        token = known.tokens.get(name) if known is not None else None
        ours = known.vouched.get(name) if known is not None else None
        if token is None and isinstance(backend, TokenFromListing):
            unchanged = False  # nothing to check against: its token comes with the read (listing_tokens)
            continue
        if token is not None and ours and isinstance(backend, VouchesForOwnWrites):
            check = backend.changes_besides(token, ours)
        else:
            check = backend.changes_since(token)
        if check.token is None:
            return None, None
        tokens[name] = check.token
        unchanged = unchanged and not check.changed
    if unchanged and known is not None:
        return known, tokens
    return None, tokens


def listing_tokens(
    checked: dict[str, str], group: Group, backends: Mapping[str, CalendarBackend]
) -> dict[str, str] | None:
    """The group's change tokens after a read: those checked before it, and for each calendar that had
    none, the token its listing answered (``TokenFromListing``); None when one is missing."""
    tokens = dict(checked)
    for name in dict.fromkeys((*group.sources, group.target)):
        if name in tokens:
            continue
        backend = backends[name]
        token = backend.listing_token() if isinstance(backend, TokenFromListing) else None
        if token is None:
            return None
        tokens[name] = token
    return tokens


def _own_writes(
    group: Group, backends: Mapping[str, CalendarBackend]
) -> dict[str, dict[str, str | None]] | None:
    """What the group's backends wrote, by calendar; None when one cannot vouch for its writes."""
    found: dict[str, dict[str, str | None]] = {}
    for name in dict.fromkeys((*group.sources, group.target)):
        backend = backends[name]
        writes = backend.own_writes() if isinstance(backend, VouchesForOwnWrites) else None
        if writes is None:
            return None
        if writes:
            found[name] = dict(writes)
    return found


def _settled_state(
    analysis: Analysis,
    tokens: dict[str, str],
    settings: Settings,
    now: datetime,
    vouched: dict[str, dict[str, str | None]] | None = None,
) -> SettledGroup:
    """The group's state after this run: when it wrote, the state it read plus its own writes
    (``vouched``), which the plan it carried out makes settled."""
    moments: list[Moment] = []
    for plan in analysis.plans:
        moments += [plan.event.start, plan.event.end or plan.event.start, plan.thank_you]
        if plan.check_in is not None:
            moments.append(plan.check_in)
    moments += [reminder.start for reminder in analysis.reminders]
    names = list(dict.fromkeys((*analysis.group.sources, analysis.group.target)))
    return SettledGroup(
        fingerprint=group_fingerprint(settings, names),
        tokens=tokens,
        checked_at=now,
        stable_until=stable_until(now, moments, analysis.next_entry, settings),
        problems=list(analysis.problems),
        vouched=vouched or {},
    )


def marks_lost_line(calendars: Sequence[str]) -> str:
    """The one line that tells the user a calendar drops followup-cal's marks, and what that costs."""
    names = ("calendars " if len(calendars) > 1 else "calendar ") + ", ".join(f"'{c}'" for c in calendars)
    return (
        f"followup-cal: {names} lost followup-cal's marks (an app or the server re-saves events "
        "without their X-FOLLOWUP-CAL properties); reminders are still known by their UIDs, but a reminder "
        "you delete may come back."
    )
