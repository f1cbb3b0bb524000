import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0004_access_token_uuid_values"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accesstoken",
            name="uuid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="UUID"
            ),
        ),
        migrations.AddConstraint(
            model_name="accesstoken",
            constraint=models.CheckConstraint(
                condition=models.Q(("scope__in", ["repo:read", "repo:write"])),
                name="access_token_scope_known",
            ),
        ),
    ]
