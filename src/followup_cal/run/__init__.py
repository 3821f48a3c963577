"""One sync: read a group of calendars, decide, guard, write, the disposable no-op cache, the run lock and
progress.

Imports ``core``, ``ical``, ``config``, ``backends`` and ``errors``; never ``commands``.
"""
