# A decision is stored once with the organisations it concerns (filed_under: {"<org id>":
# <policy version>}) instead of one copy per organisation: the copies of each decision are
# folded into its primary row, then dropped, with the columns only the copies needed.

from django.db import migrations, models

BATCH = 2000
_SAME_DECISION = ("decided_at", "user_id", "username", "repository", "actions_asked")


def fold_copies(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE policies_pulldecision AS p SET filed_under = COALESCE((
                    SELECT jsonb_object_agg(c.organization_id::text, c.policy_version)
                    FROM policies_pulldecision AS c
                    WHERE c.organization_id IS NOT NULL
                      AND c.decided_at = p.decided_at
                      AND c.user_id IS NOT DISTINCT FROM p.user_id
                      AND c.username = p.username
                      AND c.repository = p.repository
                      AND c.actions_asked = p.actions_asked
                ), '{}'::jsonb)
                WHERE p."primary"
                """
            )
            cursor.execute('DELETE FROM policies_pulldecision WHERE NOT "primary"')
        return
    PullDecision = apps.get_model("activity", "PullDecision")
    filed: dict[tuple, dict[str, int | None]] = {}
    for row in PullDecision.objects.exclude(organization=None).values(
        *_SAME_DECISION, "organization_id", "policy_version"
    ):
        key = tuple(row[name] for name in _SAME_DECISION)
        filed.setdefault(key, {})[str(row["organization_id"])] = row["policy_version"]
    last = 0
    while True:
        batch = list(PullDecision.objects.filter(primary=True, id__gt=last).order_by("id")[:BATCH])
        if not batch:
            break
        for decision in batch:
            key = tuple(getattr(decision, name) for name in _SAME_DECISION)
            decision.filed_under = filed.get(key, {})
        PullDecision.objects.bulk_update(batch, ["filed_under"])
        last = batch[-1].id
    PullDecision.objects.filter(primary=False).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("activity", "0002_pulldecision_also_allowed_by"),
    ]

    operations = [
        migrations.AddField(
            model_name="pulldecision",
            name="filed_under",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='The organisations the user was a member of at the time, each with '
                'the version of its policy the decision was made under: {"<organization id>": '
                "<version>} (empty: none).",
                verbose_name="filed under",
            ),
        ),
        migrations.RunPython(fold_copies, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="pulldecision", name="decision_org_time"),
        migrations.RemoveIndex(model_name="pulldecision", name="decision_org_member"),
        migrations.RemoveIndex(model_name="pulldecision", name="decision_org_outcome"),
        migrations.RemoveField(model_name="pulldecision", name="organization"),
        migrations.RemoveField(model_name="pulldecision", name="policy_version"),
        migrations.RemoveField(model_name="pulldecision", name="primary"),
        migrations.AddIndex(
            model_name="pulldecision",
            index=models.Index(fields=["-decided_at"], name="decision_time"),
        ),
        migrations.AddIndex(
            model_name="pulldecision",
            index=models.Index(fields=["username", "-decided_at"], name="decision_member_time"),
        ),
        migrations.AddIndex(
            model_name="pulldecision",
            index=models.Index(fields=["outcome", "-decided_at"], name="decision_outcome_time"),
        ),
    ]
