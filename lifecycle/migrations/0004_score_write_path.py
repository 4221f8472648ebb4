"""The nightly rewrite of AccountScore: fewer indexes and room for in-place updates."""
import django.db.models.deletion
from django.db import migrations, models


def _fillfactor(value: int):
    def apply(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE lifecycle_accountscore SET (fillfactor = {value})")
    return apply


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0002_idempotencykey'),
        ('lifecycle', '0003_default_playbooks_profiles_schedule'),
    ]

    operations = [
        migrations.AlterField(
            model_name='accountscore',
            name='branch',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='crm.branch', verbose_name='branch'),
        ),
        migrations.AlterField(
            model_name='accountscore',
            name='run',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='lifecycle.scanrun', verbose_name='scan run'),
        ),
        # Room on each page for the nightly rewrite of the row (heap-only tuple updates).
        migrations.RunPython(_fillfactor(80), _fillfactor(100), elidable=False),
    ]
