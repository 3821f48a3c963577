"""The mass-removal guard: a server that suddenly answers with an empty calendar, or a config pointing at
the wrong URL, makes every interview look deleted. Removing all reminders then would be wrong, so a run
that would remove many of them stops first and asks for ``--force``."""

from __future__ import annotations

from collections.abc import Sequence

from followup_cal.core.reconcile import Action, Delete
from followup_cal.errors import MassRemovalRefused

MAX_SILENT_REMOVALS = 10


def check_removals(actions: Sequence[Action], reminders_owned: int, force: bool) -> None:
    """Raises MassRemovalRefused when ``actions`` would remove more than 10 reminders and more than half
    of the ``reminders_owned``. Removals by ``clean`` are meant to take everything and are not counted."""
    if force:
        return
    removals = sum(1 for a in actions if isinstance(a, Delete) and a.why != "clean")
    if removals > MAX_SILENT_REMOVALS and removals * 2 > reminders_owned:
        raise MassRemovalRefused(
            f"this run would remove {removals} of the {reminders_owned} reminders followup-cal wrote, "
            "so it removed nothing (an empty answer from the server or a wrong calendar URL looks like "
            "that): run 'followup-cal sync --dry-run' to see them, and 'followup-cal sync --force' "
            "if they should go"
        )
