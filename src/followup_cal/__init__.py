"""followup-cal: interview follow-up reminders in the calendar you already use."""

__version__ = "0.2.0"
