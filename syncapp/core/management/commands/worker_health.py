"""Exit 0 when the background worker's heartbeat is fresh, 1 otherwise: the worker container's
health check (`manage.py worker_health`). Prints one line saying which."""

from django.core.management.base import BaseCommand

from syncapp.core.health import dead_after, worker_state


class Command(BaseCommand):
    help = "Exit 0 if the background worker beat within the last few minutes, else 1."

    def handle(self, *args, **options):
        state = worker_state()
        if state.alive:
            self.stdout.write(f"worker alive: last beat {round(state.age_seconds)} s ago ({state.worker})")
            return
        if state.beat_at is None:
            self.stderr.write("worker never seen: no heartbeat yet (is `manage.py qcluster` running?)")
        else:
            limit = round(dead_after().total_seconds())
            self.stderr.write(f"worker dead: last beat {round(state.age_seconds)} s ago, over the {limit} s limit")
        raise SystemExit(1)
