"""What the sync engine tells the rest of the product, without importing it (alerts, schedules).

`run_ended` is sent once a run's end is recorded: finished, failed (also when declared dead) or
paused by a rate limit. Receivers must not raise: the run is over whatever they do.
"""

from django.dispatch import Signal

run_ended = Signal()  # sender=SyncRun, run=<SyncRun>
