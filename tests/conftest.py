"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ICS_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "ics-corpus"


@pytest.fixture(scope="session")
def ics_corpus() -> Path:
    """Real calendar files from other programs (see shared/ics-corpus/README.md)."""
    assert ICS_CORPUS.is_dir(), f"{ICS_CORPUS} is missing: clone the repository next to shared/"
    return ICS_CORPUS
