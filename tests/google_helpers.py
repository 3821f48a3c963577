"""Helpers for the tests that talk to the Google stand-in (tests/google_standin.py): credentials and token
files it accepts, a google backend built on it, a client-secrets file for the OAuth flow, Google's shapes
of times and attendee answers, and interviews added as another Google client would add them."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from google.oauth2.credentials import Credentials

from followup_cal.backends.google import GoogleBackend
from followup_cal.backends.google_auth import SCOPES, save_credentials
from google_standin import ACCESS_TOKEN, REFRESH_TOKEN, GoogleStandin

REVOKED_LINE = (
    "Google access for calendar 'gmail' was revoked or expired: run `followup-cal auth google` again"
)
RECRUITER_CALL_START = datetime(2030, 6, 5, 10, tzinfo=timezone(timedelta(hours=2)))
# iCalendar PARTSTAT -> Google's attendee responseStatus
PARTSTATS = {
    "ACCEPTED": "accepted",
    "DECLINED": "declined",
    "TENTATIVE": "tentative",
    "NEEDS-ACTION": "needsAction",
}


def credentials_for(standin: GoogleStandin, token: str | None = ACCESS_TOKEN) -> Credentials:
    return Credentials(
        token=token,
        refresh_token=REFRESH_TOKEN,
        token_uri=standin.token_uri,
        client_id="test-client.apps.googleusercontent.com",
        client_secret="test-secret",
        scopes=list(SCOPES),
    )


def make_backend(
    standin: GoogleStandin, token: str | None = ACCESS_TOKEN, name: str = "gmail", **options: Any
) -> GoogleBackend:
    options.setdefault("backoff_base", 0.001)
    return GoogleBackend(
        name,
        credentials_for(standin, token),
        calendar_id="primary",
        api_endpoint=standin.api_endpoint,
        **options,
    )


def google_time(moment: datetime | date) -> dict[str, str]:
    """A start or end time as Google writes it (with the zone's name when it has one)."""
    if isinstance(moment, datetime):
        zone = getattr(moment.tzinfo, "key", None)
        return {"dateTime": moment.isoformat(), **({"timeZone": zone} if zone else {})}
    return {"date": moment.isoformat()}


def write_token(path: Path, standin: GoogleStandin, *, expired: bool) -> None:
    """A saved token file for the stand-in; ``expired``: the first use refreshes it."""
    credentials = credentials_for(standin, token="old-access-token")
    credentials.expiry = datetime(2000, 1, 1) if expired else datetime(2999, 1, 1)
    save_credentials(credentials, path)


def client_secrets(folder: Path, standin: GoogleStandin) -> Path:
    """A client_secret.json ("installed" app) whose endpoints are the stand-in's."""
    path = folder / "client_secret.json"
    installed = {
        "client_id": "test-client.apps.googleusercontent.com",
        "client_secret": "test-secret",
        "auth_uri": standin.url + "auth",
        "token_uri": standin.token_uri,
        "redirect_uris": ["http://localhost"],
    }
    path.write_text(json.dumps({"installed": installed}))
    return path


def add_interview(
    standin: GoogleStandin, summary: str, start: datetime, minutes: int, *, organizer: str | None = None
) -> None:
    """An event in the primary calendar, as another Google client would insert it."""
    body: dict[str, Any] = {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat()},
    }
    if organizer is not None:
        body["organizer"] = {"email": organizer}
    standin.add_event("primary", body)


def add_recruiter_call(standin: GoogleStandin, start: datetime = RECRUITER_CALL_START) -> None:
    """'Recruiter call - Initech', 30 minutes, organised by the recruiter."""
    add_interview(standin, "Recruiter call - Initech", start, 30, organizer="hr@initech.example")
