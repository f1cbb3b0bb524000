# The pull decision log moved to the activity app. Its table stays where it is (the activity
# app's model keeps db_table = "policies_pulldecision"): this app forgets the model, the
# activity app's 0001 takes it over, and no row is copied.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('policies', '0004_audit_only_and_pull_decisions'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='PullDecision')],
            database_operations=[],
        ),
    ]
