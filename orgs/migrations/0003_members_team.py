"""Give every existing organisation the ``members`` team that new organisations are made with,
so that invitation forms always have a safe team to preselect."""

from django.db import migrations

MEMBERS_TEAM = "members"  # orgs.models.MEMBERS_TEAM at the time of writing


def add_members_team(apps, schema_editor):
    Organization = apps.get_model("orgs", "Organization")
    Team = apps.get_model("orgs", "Team")
    missing = Organization.objects.exclude(teams__name=MEMBERS_TEAM)
    Team.objects.bulk_create(
        Team(
            organization=organization,
            name=MEMBERS_TEAM,
            description="Members of the organization: Image Access Management applies to their pulls.",
        )
        for organization in missing.iterator()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0002_invitation"),
    ]

    operations = [
        migrations.RunPython(add_members_team, migrations.RunPython.noop),
    ]
