"""Runs the followup-cal CLI (``python peak_probe.py OUT ARGS...``) and, as it exits, writes its own peak
resident memory in kB (``VmHWM`` of /proc/self/status) to OUT.

Why not the parent's ``wait4``: a process started by a big one (the benchmark, holding a stand-in's
calendar) inherits that process's peak in ``ru_maxrss``, which Linux keeps across ``exec``; ``VmHWM``
belongs to the new program's memory alone.
"""

from __future__ import annotations

import runpy
import sys

from probe_exit import when_exiting


def main() -> None:
    out, args = sys.argv[1], sys.argv[2:]

    def report() -> None:
        try:
            with open("/proc/self/status") as status:
                peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            return  # not Linux: the benchmark keeps the parent's figure
        with open(out, "w") as handle:
            handle.write(peak)

    when_exiting(report)
    sys.argv = ["followup-cal", *args]
    runpy.run_module("followup_cal", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
