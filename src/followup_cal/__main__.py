"""``python -m followup_cal`` runs the same command line as ``followup-cal``."""

from .cli import main

main()
