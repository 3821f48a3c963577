"""Shared pytest fixtures."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from google_standin import GoogleStandin
from graph_standin import GraphStandin
from memory_keyring import MemoryKeyring, keyring_replaced_by
from microsoft_identity import MicrosoftIdentity
from xandikos_server import XandikosServer, running_xandikos

ICS_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "ics-corpus"


def icalendar_test_files() -> Path:
    """The folder of the ``.ics`` files that the installed icalendar package ships with its own tests."""
    import icalendar

    return Path(icalendar.__file__).resolve().parent / "tests"


@pytest.fixture(scope="session")
def ics_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real calendar files from other programs: ../shared/ics-corpus (see its README.md) where it exists
    (CI), else a copy of the ``.ics`` files icalendar ships with its tests, under ``icalendar/`` as in the
    shared corpus (a lone clone of the project)."""
    if ICS_CORPUS.is_dir():
        return ICS_CORPUS
    source = icalendar_test_files()
    folder = tmp_path_factory.mktemp("ics-corpus")
    for path in sorted(source.rglob("*.ics")):
        target = folder / "icalendar" / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    assert len(list(folder.rglob("*.ics"))) > 100, f"{source} holds too few .ics files"
    return folder


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lock and cache files go to a temporary folder, never the real home of whoever runs the tests."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(home / "runtime"))


@pytest.fixture
def standin() -> Iterator[GoogleStandin]:
    """A fresh Google stand-in for one test (test_network_faults and test_secret_leaks set up their own)."""
    with GoogleStandin() as server:
        yield server


@pytest.fixture
def graph() -> Iterator[GraphStandin]:
    """A fresh Microsoft Graph stand-in for one test."""
    with GraphStandin() as server:
        yield server


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An empty in-memory keyring is the system keyring for one test."""
    backend = MemoryKeyring()
    with keyring_replaced_by(backend):
        yield backend


@pytest.fixture
def identity(monkeypatch: pytest.MonkeyPatch) -> Iterator[MicrosoftIdentity]:
    """A fresh Microsoft identity stand-in (TLS) for one test; requests (so msal) trusts its test CA."""
    with MicrosoftIdentity() as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
        yield server


@pytest.fixture(scope="session")
def xandikos() -> Iterator[XandikosServer]:
    """A real Xandikos server, started once for the session (each test makes its own calendar)."""
    with running_xandikos() as server:
        yield server
