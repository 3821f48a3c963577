"""Text for ``followup-cal schedule``: a crontab line, a systemd user timer, or a launchd agent.

Rendering is pure (paths in, text out) so every format can be checked without installing anything.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from followup_cal.errors import UsageError

LAUNCHD_LABEL = "com.followup-cal.sync"
SYSTEMD_DIR = "~/.config/systemd/user"
LAUNCHD_DIR = "~/Library/LaunchAgents"


def this_program(
    argv0: str,
    which: Callable[[str], str | None] = shutil.which,
    python: str = sys.executable,
) -> list[str]:
    """The absolute command that runs followup-cal: the script itself, else the one on PATH, else python -m.

    Symlinks are kept (absolute, not resolved): a pipx or Homebrew link survives upgrades, its target may not.
    """
    if argv0 and not argv0.endswith(".py"):
        found = argv0 if os.sep in argv0 else which(argv0)
        if found and os.path.isfile(found) and os.access(found, os.X_OK):
            return [os.path.abspath(found)]
    on_path = which("followup-cal")
    if on_path:
        return [os.path.abspath(on_path)]
    return [os.path.abspath(python), "-m", "followup_cal"]


def sync_command(program: list[str], config: Path) -> list[str]:
    """The arguments of one quiet sync with this config."""
    return [*program, "--config", str(config), "-q", "sync"]


def _calendar_step(every: int) -> tuple[str, str] | None:
    """(cron minute and hour fields) for "every N minutes", or None when cron cannot say it."""
    if every < 60:
        return f"*/{every}", "*"
    if every == 1440:
        return "0", "0"
    if every % 60 == 0 and 24 % (every // 60) == 0:
        return "0", f"*/{every // 60}"
    return None


def render_cron(program: list[str], config: Path, every: int) -> str:
    """One crontab line plus, as comments, the command that adds it to the user's crontab."""
    step = _calendar_step(every)
    if step is None:
        raise UsageError(
            f"cron cannot run a job every {every} minutes: use a value under 60, or whole hours that divide "
            "a day (60, 120, 180, 240, 360, 480, 720, 1440), or --systemd / --launchd"
        )
    # cron turns an unescaped % into a newline.
    command = shlex.join(sync_command(program, config)).replace("%", "\\%")
    line = f"{step[0]} {step[1]} * * * {command}"
    lines = [
        f"# followup-cal: sync every {every} minutes. To install, run:",
        f"#   (crontab -l 2>/dev/null; echo {shlex.quote(line)}) | crontab -",
    ]
    if every < 60 and 60 % every:
        lines.append(f"# (cron restarts the count each hour, so one gap per hour is shorter than {every})")
    lines.append(line)
    return "\n".join(lines) + "\n"


def _systemd_exec(args: list[str]) -> str:
    # systemd reads % as a specifier and $ as a variable, even inside quotes.
    return shlex.join(args).replace("%", "%%").replace("$", "$$")


def render_systemd(program: list[str], config: Path, every: int) -> str:
    """A user service and timer, each under its file name, then the commands that enable them."""
    step = _calendar_step(every)
    if step is None:
        timing = [f"OnBootSec={min(every, 5)}min", f"OnUnitActiveSec={every}min"]
    else:
        minute, hour = step
        hours = "*" if hour == "*" else ("00" if hour == "0" else f"0/{hour[2:]}")
        minutes = "00" if minute == "0" else f"0/{minute[2:]}"
        timing = [f"OnCalendar=*-*-* {hours}:{minutes}:00", "Persistent=true"]
    service = [
        f"# {SYSTEMD_DIR}/followup-cal.service",
        "[Unit]",
        "Description=followup-cal: write interview follow-up reminders",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=oneshot",
        f"ExecStart={_systemd_exec(sync_command(program, config))}",
    ]
    timer = [
        f"# {SYSTEMD_DIR}/followup-cal.timer",
        "[Unit]",
        f"Description=Run followup-cal sync every {every} minutes",
        "",
        "[Timer]",
        *timing,
        "",
        "[Install]",
        "WantedBy=timers.target",
    ]
    install = [
        f"# Save the two files above in {SYSTEMD_DIR}/ (mkdir -p {SYSTEMD_DIR}), then run:",
        "#   systemctl --user daemon-reload && systemctl --user enable --now followup-cal.timer",
        "# To keep it running while you are logged out: loginctl enable-linger",
        "# Its output: journalctl --user -u followup-cal.service",
    ]
    return "\n".join([*service, "", *timer, "", *install]) + "\n"


def render_launchd(program: list[str], config: Path, every: int, home: Path) -> str:
    """A launchd agent plist (with the install command as an XML comment) for ~/Library/LaunchAgents/."""
    logs = home / "Library" / "Logs"
    agent = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": sync_command(program, config),
        "StartInterval": every * 60,
        "RunAtLoad": True,
        "StandardOutPath": str(logs / "followup-cal.log"),
        "StandardErrorPath": str(logs / "followup-cal.err.log"),
    }
    text = plistlib.dumps(agent, sort_keys=False).decode("utf-8")
    where = f"{LAUNCHD_DIR}/{LAUNCHD_LABEL}.plist"
    # Only fixed text goes in the comment: user paths could hold "--", which XML comments forbid.
    comment = f"<!-- Save as {where}, then run: launchctl load -w {where} -->\n"
    head, _, rest = text.partition("\n")
    return f"{head}\n{comment}{rest}"
