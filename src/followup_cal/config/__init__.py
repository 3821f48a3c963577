"""The configuration: loading and validating the TOML file, the typed value readers, secrets (passwords,
keyring, private files) and the log redaction that keeps them out of output.

Imports ``core`` and ``errors``; never ``ical``, a backend, ``run`` or ``commands``.
"""
