"""The click command line: ``cli`` (the group and the everyday commands), ``context`` (shared by all
commands; errors become messages there, in one place), and one module per larger command.

The top layer: it may import every other part; nothing imports it.
"""
