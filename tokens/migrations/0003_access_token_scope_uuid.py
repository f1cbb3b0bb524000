from django.db import migrations, models


class Migration(migrations.Migration):
    """Access tokens get a scope (existing ones keep what they could do: repo:write) and a UUID
    that names them in the API (filled in by 0004, made unique by 0005: on PostgreSQL a data
    migration must not share a transaction with the schema changes around it)."""

    dependencies = [
        ("tokens", "0002_refresh_token"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesstoken",
            name="scope",
            field=models.CharField(
                choices=[
                    ("repo:read", "Read-only: pull images, read through the API"),
                    (
                        "repo:write",
                        "Read & write: also push images and change settings through the API",
                    ),
                ],
                default="repo:write",
                help_text=(
                    "repo:read tokens can pull and read; repo:write tokens can also push and "
                    "write."
                ),
                max_length=10,
                verbose_name="scope",
            ),
        ),
        migrations.AddField(
            model_name="accesstoken",
            name="uuid",
            field=models.UUIDField(editable=False, null=True, verbose_name="UUID"),
        ),
    ]
