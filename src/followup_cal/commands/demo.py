"""``followup-cal demo``: the whole job on a bundled sample week, in a temporary .ics file."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

from followup_cal.commands.status import interview_statuses, render_text
from followup_cal.config.load import system_timezone
from followup_cal.core.settings import CalendarSettings, Settings

DEMO_ME = ("you@example.com",)


def demo_calendar(monday: date) -> str:
    """The sample week, its interviews placed in the week that starts on ``monday``."""
    template = resources.files("followup_cal").joinpath("data/demo-week.ics").read_text(encoding="utf-8")
    days = {
        name: monday + timedelta(days=offset)
        for offset, name in enumerate(["MON", "TUE", "WED", "THU", "FRI"])
    }
    text = template.replace(
        "{FRI_NEXT_TEXT}", (days["FRI"] + timedelta(days=7)).strftime("%B %d").replace(" 0", " ")
    )
    for name, day in days.items():
        text = text.replace("{" + name + "}", day.strftime("%Y%m%d"))
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def run_demo(out: Path | None, echo: Callable[[str], None], now: datetime | None = None) -> None:
    from followup_cal.backends.icsfile import IcsFileBackend
    from followup_cal.run.sync import run

    now = now or datetime.now(UTC)
    tz = system_timezone()
    monday = next_monday(now.astimezone(tz).date())
    with tempfile.TemporaryDirectory(prefix="followup-cal-demo-") as folder:
        path = Path(folder) / "demo.ics"
        path.write_text(demo_calendar(monday), encoding="utf-8", newline="")
        settings = Settings(
            timezone=tz,
            me=DEMO_ME,
            calendars={"demo": CalendarSettings("demo", "ics", {"path": path})},
            source="(demo)",
        )
        backends = {"demo": IcsFileBackend("demo", path)}
        echo(f"Sample week of {monday:%d %b %Y} (time zone {tz.key}), you are {DEMO_ME[0]}.")
        echo("First sync: what followup-cal wrote into the calendar")
        run(settings, backends, now=now, report=lambda line: echo(f"  {line}"))
        second: list[str] = []
        result = run(settings, backends, now=now, report=second.append)
        echo(f"Second sync: {len(second)} changes (it is safe to run from cron).")
        echo("")
        echo("Status:")
        echo(render_text(interview_statuses(result.analyses, now, settings), settings, now))
        reminders = sorted((r for a in result.analyses for r in a.reminders), key=lambda r: str(r.start))
        if reminders:
            first = reminders[0]
            echo("")
            echo("A reminder as your phone shows it:")
            echo(f"  {first.summary}")
            for line in first.description.splitlines():
                echo(f"    {line}")
        if out is not None:
            shutil.copyfile(path, out)
            echo("")
            echo(f"Saved the calendar with its reminders to {out}: import it into any calendar app.")
