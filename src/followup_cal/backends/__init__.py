"""Calendar backends behind one protocol (``base.CalendarBackend``): one module per kind (memory,
vdir, ics file, CalDAV, Google, Microsoft), their HTTP helpers and auth; ``registry`` opens the one a
calendar's ``type`` names.

Imports ``core``, ``ical``, ``config`` and ``errors``; never ``run`` or ``commands``.
"""
