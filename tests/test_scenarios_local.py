"""The end-to-end scenario on the local backends: memory, a vdir folder, one .ics file."""

from __future__ import annotations

from pathlib import Path

import pytest

from calendar_user import CalendarUser, CallbackStore, FileStore, FolderStore
from followup_cal.backends.icsfile import IcsFileBackend
from followup_cal.backends.memory import MemoryBackend
from followup_cal.backends.vdir import VdirBackend
from scenarios import SyncScenarios, World


class TestMemory(SyncScenarios):
    @pytest.fixture
    def world(self) -> World:
        # remember_deleted: like Nextcloud's trash bin, a deleted UID is never accepted again.
        backend = MemoryBackend("cal", remember_deleted=True)
        store = CallbackStore(backend.hrefs, backend.get_raw, backend.put_raw, backend.remove_raw)
        return World(backend, CalendarUser(store))


class TestVdir(SyncScenarios):
    @pytest.fixture
    def world(self, tmp_path: Path) -> World:
        return World(VdirBackend("cal", tmp_path), CalendarUser(FolderStore(tmp_path)))


class TestIcsFile(SyncScenarios):
    @pytest.fixture
    def world(self, tmp_path: Path) -> World:
        path = tmp_path / "calendar.ics"
        path.write_bytes(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//app//EN\r\nEND:VCALENDAR\r\n")
        return World(IcsFileBackend("cal", path), CalendarUser(FileStore(path), single_file=True))
