"""Runs the followup-cal CLI (``python import_probe.py OUT.json ARGS...``) and, as it exits, writes to
OUT.json every module it imported and every file it opened from the package's data folder (per-language
word lists and the like), so that the benchmark can tell what a no-op sync loads."""

from __future__ import annotations

import json
import runpy
import sys

from probe_exit import when_exiting

DATA_MARK = "/followup_cal/data/"


def main() -> None:
    out, args = sys.argv[1], sys.argv[2:]
    opened: list[str] = []

    def hook(event: str, hook_args: tuple[object, ...]) -> None:
        if event == "open" and hook_args and isinstance(hook_args[0], str) and DATA_MARK in hook_args[0]:
            opened.append(hook_args[0].split(DATA_MARK, 1)[1])

    def report() -> None:
        with open(out, "w") as handle:
            json.dump({"modules": sorted(sys.modules), "data_files": opened}, handle)

    sys.addaudithook(hook)
    when_exiting(report)
    sys.argv = ["followup-cal", *args]
    runpy.run_module("followup_cal", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
