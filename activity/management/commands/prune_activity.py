"""Remove pull decisions older than ``DECISION_LOG_RETENTION_DAYS`` (default 90): on PostgreSQL
whole monthly partitions are dropped (and the coming months' partitions created), the rest is
deleted in bounded batches. Run it daily (cron or a systemd timer, see docs/activity.md). Prints
what it did."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from activity.services import pull_decisions_prune


class Command(BaseCommand):
    help = "Remove pull decisions older than DECISION_LOG_RETENTION_DAYS (partitions, batches)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="keep this many days instead of DECISION_LOG_RETENTION_DAYS",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="rows deleted per statement (default 5000)",
        )

    def handle(self, *args, days, batch_size, **options):
        days = settings.DECISION_LOG_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        before = timezone.now() - timedelta(days=days)
        pruned = pull_decisions_prune(before=before, batch_size=batch_size)
        total = pruned.total
        self.stdout.write(
            f"Deleted {total} pull decision{'s' if total != 1 else ''} made before "
            f"{before:%Y-%m-%d %H:%M} UTC (keeping {days} days)."
        )
        if pruned.dropped:
            self.stdout.write(
                f"Dropped {len(pruned.dropped)} monthly partition(s) ({pruned.dropped_rows} "
                f"decisions): {', '.join(pruned.dropped)}."
            )
        if pruned.created:
            self.stdout.write(f"Created partition(s): {', '.join(pruned.created)}.")
