# The pull decision log, moved here from the policies app (policies 0005 forgot it) without
# touching the database: the table keeps its name (db_table = "policies_pulldecision"), its
# columns, its rows and its indexes (their names were explicit: decision_org_time, ...). Only
# the state is created here, and the model's content type (its admin permissions and log
# entries) follows it to this app.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _relabel(apps, old: str, new: str) -> None:
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if not ContentType.objects.filter(app_label=new, model='pulldecision').exists():
        ContentType.objects.filter(app_label=old, model='pulldecision').update(app_label=new)


def move_content_type(apps, schema_editor):
    _relabel(apps, 'policies', 'activity')


def move_content_type_back(apps, schema_editor):
    _relabel(apps, 'activity', 'policies')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('orgs', '0004_team_name_full_match'),
        ('policies', '0005_move_pulldecision_to_activity'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
        migrations.CreateModel(
            name='PullDecision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('decided_at', models.DateTimeField(verbose_name='when')),
                ('policy_version', models.PositiveIntegerField(blank=True, help_text="The version of that organisation's policy the decision was made under.", null=True, verbose_name='policy version')),
                ('primary', models.BooleanField(default=True, verbose_name='primary copy')),
                ('username', models.CharField(blank=True, max_length=150, verbose_name='username')),
                ('signed_in_with', models.CharField(choices=[('access_token', 'Access token'), ('refresh_token', 'Registry session'), ('password', 'Password'), ('anonymous', 'Anonymous')], max_length=16, verbose_name='signed in with')),
                ('credential', models.CharField(blank=True, help_text="The access token's name, or the registry session's client.", max_length=100, verbose_name='credential')),
                ('client_address', models.CharField(blank=True, max_length=64, verbose_name='client address')),
                ('user_agent', models.CharField(blank=True, max_length=200, verbose_name='user agent')),
                ('repository', models.CharField(max_length=512, verbose_name='repository')),
                ('actions_asked', models.CharField(max_length=100, verbose_name='actions asked')),
                ('actions_granted', models.CharField(blank=True, max_length=100, verbose_name='actions granted')),
                ('category', models.CharField(choices=[('organization', 'Organization images'), ('official', 'Docker Official Images'), ('verified_publisher', 'Docker Verified Publisher images'), ('community', 'Community images'), ('other_registry', 'Images from other registries')], max_length=20, verbose_name='category')),
                ('deciding_organization', models.CharField(blank=True, max_length=30, verbose_name='decided by')),
                ('rule', models.CharField(choices=[('other_registry', 'Other registry'), ('no_organization', 'No organization'), ('unmanaged', 'Image Access Management off'), ('owner', 'Owners team'), ('organization', 'Organization images'), ('category', 'Image category'), ('team_grant', 'Team grant'), ('allowlist', 'Allowlist entry')], max_length=20, verbose_name='rule')),
                ('reason', models.TextField(verbose_name='reason')),
                ('outcome', models.CharField(choices=[('allowed', 'Allowed'), ('blocked', 'Blocked'), ('would_block', 'Would be blocked')], max_length=12, verbose_name='outcome')),
                ('organization', models.ForeignKey(blank=True, db_index=False, help_text='An organisation the user was a member of at the time (empty: none).', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='pull_decisions', to='orgs.organization', verbose_name='filed under')),
                ('user', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'pull decision',
                'verbose_name_plural': 'pull decisions',
                'db_table': 'policies_pulldecision',
                'ordering': ['-decided_at', '-id'],
                'indexes': [models.Index(fields=['organization', '-decided_at'], name='decision_org_time'), models.Index(fields=['organization', 'username', '-decided_at'], name='decision_org_member'), models.Index(fields=['organization', 'outcome', '-decided_at'], name='decision_org_outcome'), models.Index(fields=['user', '-decided_at'], name='decision_user_time')],
            },
        ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=True),
    ]
