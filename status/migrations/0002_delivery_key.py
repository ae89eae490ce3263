from django.db import migrations, models


def keys_from_payloads(apps, schema_editor):
    Delivery = apps.get_model("status", "Delivery")
    for delivery in Delivery.objects.all().only("pk", "payload"):
        key = str((delivery.payload or {}).get("key") or f"legacy:{delivery.pk}")
        Delivery.objects.filter(pk=delivery.pk).update(key=key[:96])


class Migration(migrations.Migration):
    dependencies = [("status", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="delivery", name="key", field=models.CharField(default="", max_length=96), preserve_default=False
        ),
        migrations.RunPython(keys_from_payloads, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.UniqueConstraint(fields=("subscriber", "key"), name="delivery_once_per_notification"),
        ),
    ]
