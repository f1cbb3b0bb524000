# Which organisations decided becomes data: the other organisations that allowed a pull move
# from the end of the reason ("... Also allowed by acme, globex.") to also_allowed_by, and the
# reason of a decision made while every organisation of the user had management off no longer
# lists them. The rows written before are rewritten once here (the only place that reads the
# old words); the pages never parse a reason.

import re

from django.db import migrations, models

_ALSO_ALLOWED = re.compile(r"^(?P<reason>.*) Also allowed by (?P<names>[a-z0-9, ]+)\.$", re.DOTALL)
UNMANAGED = (
    "Image Access Management is off in every organization you belong to: "
    "members can pull any image."
)
BATCH = 2000


def _batches(queryset):
    """The rows of ``queryset`` in batches by id, each batch read by its own query (the rows
    are rewritten between two reads)."""
    last = 0
    while True:
        batch = list(queryset.filter(id__gt=last).order_by('id')[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1].id


def structure_old_reasons(apps, schema_editor):
    PullDecision = apps.get_model('activity', 'PullDecision')
    PullDecision.objects.filter(rule='unmanaged').update(reason=UNMANAGED)
    old = PullDecision.objects.filter(reason__contains=' Also allowed by ')
    for batch in _batches(old.only('id', 'reason', 'also_allowed_by')):
        changed = []
        for row in batch:
            match = _ALSO_ALLOWED.match(row.reason)
            if match is not None:
                row.reason = match['reason']
                row.also_allowed_by = ','.join(n.strip() for n in match['names'].split(','))
                changed.append(row)
        PullDecision.objects.bulk_update(changed, ['reason', 'also_allowed_by'])


def unstructure_reasons(apps, schema_editor):
    PullDecision = apps.get_model('activity', 'PullDecision')
    for batch in _batches(PullDecision.objects.exclude(also_allowed_by='')):
        for row in batch:
            names = ', '.join(row.also_allowed_by.split(','))
            row.reason = f"{row.reason} Also allowed by {names}."
            row.also_allowed_by = ''
        PullDecision.objects.bulk_update(batch, ['reason', 'also_allowed_by'])


class Migration(migrations.Migration):

    dependencies = [
        ('activity', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='pulldecision',
            name='also_allowed_by',
            field=models.TextField(blank=True, default='', help_text='The other organisations that restricted the user and allowed the pull too, by name, comma-separated (organisation names have no commas). Shown to the user only.', verbose_name='also allowed by'),
        ),
        migrations.AlterField(
            model_name='pulldecision',
            name='reason',
            field=models.TextField(help_text="Why, in the deciding organisation's words (it names no other one).", verbose_name='reason'),
        ),
        migrations.RunPython(structure_old_reasons, unstructure_reasons, elidable=True),
    ]
