import uuid

from django.db import migrations


def give_each_token_a_uuid(apps, schema_editor):
    """Existing tokens get distinct UUIDs (a column default would give them all the same one)."""
    AccessToken = apps.get_model("tokens", "AccessToken")
    for pk in AccessToken.objects.filter(uuid__isnull=True).values_list("pk", flat=True):
        AccessToken.objects.filter(pk=pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0003_access_token_scope_uuid"),
    ]

    operations = [
        migrations.RunPython(give_each_token_a_uuid, migrations.RunPython.noop),
    ]
