"""A group: the calendar that receives reminders and the calendars whose interviews it serves.

Shared by ``sync`` (which reads and plans a group) and ``writes`` (which writes its actions).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    target: str
    sources: tuple[str, ...]
