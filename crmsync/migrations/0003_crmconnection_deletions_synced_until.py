from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crmsync", "0002_crmconnection_connect_warning"),
    ]

    operations = [
        migrations.AddField(
            model_name="crmconnection",
            name="deletions_synced_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
