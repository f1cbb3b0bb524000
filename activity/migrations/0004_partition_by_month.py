# On PostgreSQL the decision log becomes a table partitioned by month of decided_at (declarative
# partitioning), with a default partition, so that retention drops whole months (see
# activity/partitions.py). Its primary key becomes (id, decided_at), as PostgreSQL requires of a
# partitioned table (id stays unique: one sequence numbers every row). The rows are copied once.
# Other databases keep one table. Not reversible on PostgreSQL.

from datetime import UTC, datetime

from django.conf import settings
from django.db import migrations

TABLE = "policies_pulldecision"
OLD = f"{TABLE}_unpartitioned"
SEQUENCE = f"{TABLE}_id_seq_partitioned"
MONTHS_AHEAD = 2


def _month(moment):
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _next(start):
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def _literal(moment):
    return moment.strftime("'%Y-%m-%d %H:%M:%S+00'")  # DDL takes no parameters


def partition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    users = apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {q(TABLE)} RENAME TO {q(OLD)}")
        cursor.execute(f"CREATE SEQUENCE {q(SEQUENCE)}")
        cursor.execute(
            f"CREATE TABLE {q(TABLE)} (LIKE {q(OLD)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
            "PARTITION BY RANGE (decided_at)"
        )
        cursor.execute(
            f"ALTER TABLE {q(TABLE)} ALTER COLUMN id SET DEFAULT nextval('{SEQUENCE}')"
        )
        cursor.execute(f"ALTER SEQUENCE {q(SEQUENCE)} OWNED BY {q(TABLE)}.id")
        cursor.execute(f"CREATE TABLE {q(TABLE + '_default')} PARTITION OF {q(TABLE)} DEFAULT")
        cursor.execute(f"SELECT min(decided_at), max(id) FROM {q(OLD)}")
        oldest, last_id = cursor.fetchone()
        now = datetime.now(UTC)
        start = _month(min(oldest, now) if oldest else now)
        end = _next(_month(now))
        for _ in range(MONTHS_AHEAD):
            end = _next(end)
        while start < end:
            name = f"{TABLE}_y{start.year:04d}m{start.month:02d}"
            cursor.execute(
                f"CREATE TABLE {q(name)} PARTITION OF {q(TABLE)} "
                f"FOR VALUES FROM ({_literal(start)}) TO ({_literal(_next(start))})"
            )
            start = _next(start)
        cursor.execute(f"INSERT INTO {q(TABLE)} SELECT * FROM {q(OLD)}")
        if last_id:
            cursor.execute("SELECT setval(%s, %s)", [SEQUENCE, last_id])
        cursor.execute(f"DROP TABLE {q(OLD)}")
        cursor.execute(f"ALTER TABLE {q(TABLE)} ADD PRIMARY KEY (id, decided_at)")
        for name, columns in (
            ("decision_time", "decided_at DESC"),
            ("decision_member_time", "username, decided_at DESC"),
            ("decision_outcome_time", "outcome, decided_at DESC"),
            ("decision_user_time", "user_id, decided_at DESC"),
        ):
            cursor.execute(f"CREATE INDEX {q(name)} ON {q(TABLE)} ({columns})")
        cursor.execute(
            f"ALTER TABLE {q(TABLE)} ADD CONSTRAINT {q(TABLE + '_user_id_fk')} "
            f"FOREIGN KEY (user_id) REFERENCES {q(users)} (id) DEFERRABLE INITIALLY DEFERRED"
        )


class Migration(migrations.Migration):

    dependencies = [
        ("activity", "0003_decision_stored_once"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(partition)]
