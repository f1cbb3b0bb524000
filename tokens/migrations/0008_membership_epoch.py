"""The memberships epoch (tokens.models.MembershipEpoch) and the triggers that change it.

The triggers are written here, with the tables of this moment: a later migration that adds a
table the token service reads memberships from adds its triggers too
(tests/tokens/test_membership_epoch.py fails until it does).
"""

from django.db import migrations, models

#: The tables the token service reads a holder's memberships from.
TABLES = (
    "orgs_organization",
    "orgs_team",
    "orgs_teammembership",
    "policies_accesspolicy",
    "policies_teamgrant",
    "tokens_organizationtokenpolicy",
)
EPOCH = "tokens_membershipepoch"
SEQUENCE = "tokens_membershipepoch_value_seq"
FUNCTION = "tokens_membership_epoch_bump"


def _trigger(table: str, operation: str = "") -> str:
    return f"{table}_epoch{'_' + operation.lower() if operation else ''}"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"CREATE SEQUENCE {SEQUENCE}")
        schema_editor.execute(
            f"""CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO {EPOCH} (id, value) VALUES (1, nextval('{SEQUENCE}'))
                ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value;
                RETURN NULL;
            END $$"""
        )
        schema_editor.execute(f"INSERT INTO {EPOCH} (id, value) VALUES (1, nextval('{SEQUENCE}'))")
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {_trigger(table)} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
    elif vendor == "sqlite":
        schema_editor.execute(f"INSERT INTO {EPOCH} (id, value) VALUES (1, random())")
        for table in TABLES:
            for operation in ("INSERT", "UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {_trigger(table, operation)} AFTER {operation} ON {table} "
                    f"BEGIN INSERT OR REPLACE INTO {EPOCH} (id, value) VALUES (1, random()); END"
                )
    else:
        raise RuntimeError(f"no memberships epoch triggers for {vendor}")


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {_trigger(table)} ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
    elif vendor == "sqlite":
        for table in TABLES:
            for operation in ("INSERT", "UPDATE", "DELETE"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, operation)}")


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0006_organization_next_steps_dismissed_at"),
        ("policies", "0005_move_pulldecision_to_activity"),
        ("tokens", "0007_organization_tokens"),
    ]

    operations = [
        migrations.CreateModel(
            name="MembershipEpoch",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("value", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(create, drop),
    ]
