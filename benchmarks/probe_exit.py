"""How the benchmark's probes (import_probe.py, peak_probe.py) report as the CLI they run exits."""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from typing import NoReturn


def when_exiting(report: Callable[[], None]) -> None:
    """Calls ``report`` once as the process ends: at the interpreter's normal exit, or just before the
    ``os._exit`` that ends a quick no-op (commands/entry.py), which skips atexit handlers."""
    atexit.register(report)
    real_exit = os._exit

    def report_then_exit(code: int) -> NoReturn:
        report()
        real_exit(code)

    os._exit = report_then_exit
