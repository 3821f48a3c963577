"""The shared end-to-end sync scenarios (tests/scenarios.py) on Microsoft: the microsoft backend against
the stand-in of Microsoft Graph, with a user who edits events as Outlook does. Every scenario also ends
with the stand-in's watch: no unconditional write, nobody invited or notified."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph_helpers import OutlookUser, make_backend
from graph_standin import GraphStandin
from scenarios import SyncScenarios, World


class TestMicrosoftScenarios(SyncScenarios):
    @pytest.fixture
    def world(self, graph: GraphStandin) -> Iterator[World]:
        yield World(make_backend(graph, name="cal"), OutlookUser(graph))  # type: ignore[arg-type]
        assert graph.violations == []
