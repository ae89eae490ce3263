"""The starter library of the TV-spike playbook (runbooks/library.py): every install has it."""

from django.db import migrations


def load(apps, schema_editor):
    from runbooks.library import starter_library_load

    starter_library_load(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("runbooks", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
