"""``python -m followup_cal`` runs the same command line as ``followup-cal``."""

from followup_cal.commands.entry import main

main()
