"""iCalendar in and out: reading events into the core's model, the checks that refuse unreadable or
runaway events, the marks edited as text (so a user's event keeps every other byte), and cheap date scans.

Imports ``core`` and ``errors``; never a backend, ``run``, ``config`` or ``commands``.
"""
