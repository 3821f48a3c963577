"""A progress bar on stderr for long runs, drawn only when stderr is a terminal.

Under cron, in pipes and in tests stderr is no terminal, so nothing is drawn and the output stays the one
line per change that DESIGN.md promises. The bar is plain characters and two terminal controls (carriage
return, erase line), so it needs no library.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 24
MIN_TOTAL = 10  # fewer writes than this finish before a bar would help
REDRAW_SECONDS = 0.1
_ERASE_LINE = "\r\x1b[2K"


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """``progress(calendar, done, total)`` for ``sync.run``: "work: writing 12/340 [#####-----]".

    Lines printed while the bar shows must go through :meth:`echo`, which lifts the bar, prints the line
    and draws the bar again, so the two never share a line.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        enabled: bool | None = None,
        min_total: int = MIN_TOTAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream) if enabled is None else enabled
        self.min_total = min_total
        self.clock = clock
        self.line = ""  # what the bar shows now; "" when nothing is drawn
        self.drawn_at = float("-inf")
        self.lock = threading.Lock()  # writes may complete on several threads

    def __call__(self, calendar: str, done: int, total: int) -> None:
        if not self.enabled or total < self.min_total:
            return
        with self.lock:
            self._update(calendar, done, total)

    def _update(self, calendar: str, done: int, total: int) -> None:
        if done >= total:
            self.clear()
            return
        now = self.clock()
        if self.line and now - self.drawn_at < REDRAW_SECONDS:
            return
        filled = BAR_WIDTH * done // total
        self.line = f"{calendar}: writing {done}/{total} [{'#' * filled}{'-' * (BAR_WIDTH - filled)}]"
        self.drawn_at = now
        self._draw()

    def _draw(self) -> None:
        self.stream.write(f"{_ERASE_LINE}{self.line}")
        self.stream.flush()

    def clear(self) -> None:
        """Erases the bar, if one is drawn (at the end of a run)."""
        if self.line:
            self.stream.write(_ERASE_LINE)
            self.stream.flush()
            self.line = ""

    def echo(self, print_line: Callable[[str], None]) -> Callable[[str], None]:
        """Wraps ``print_line`` so that a line printed while the bar shows does not run into it."""

        def printer(text: str) -> None:
            with self.lock:
                if not self.line:
                    print_line(text)
                    return
                self.stream.write(_ERASE_LINE)
                self.stream.flush()
                print_line(text)
                self._draw()

        return printer
