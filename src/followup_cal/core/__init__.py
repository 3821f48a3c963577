"""The pure core: the model, validated settings, interview detection, decision dates, reminder times,
reconciliation of a plan with what exists, and the reminders' words.

No I/O, no backend, no click: it imports only the standard library, ``followup_cal.errors`` and itself.
"""
