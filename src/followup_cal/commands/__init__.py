"""The command line: ``entry`` (the entry point; a plain sync whose calendars are settled ends there,
without click), ``cli`` (the click group and the everyday commands), ``context`` (shared by all
commands; errors become messages there, in one place), and one module per larger command.

The top layer: it may import every other part; nothing imports it.
"""
