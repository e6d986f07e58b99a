"""Shared documents move to the private documents storage under random names.

Files stored before were `shared/<customer id>/<original name>` in the default storage (MEDIA_ROOT, which
`make run` served under /media/). Each is copied to the documents storage under a random name whose
extension follows its detected type (the stored content_type), the row points at the copy, and the old
file is deleted once the migration has committed. A row whose file is already gone keeps its name (its
download answers 404, as before). Nothing to undo: the reverse keeps the files where they are.
"""

from django.core.files.storage import storages
from django.db import migrations, models, transaction

import portal.documents


def move_to_private_storage(apps, schema_editor):
    SharedDocument = apps.get_model("portal", "SharedDocument")
    old = storages["default"]
    new = portal.documents.document_storage()
    moved = []
    for document in SharedDocument.objects.exclude(file="").only("pk", "file", "content_type").iterator():
        name = document.file.name
        if not name.startswith("shared/") or not old.exists(name):
            continue
        with old.open(name, "rb") as handle:
            new_name = new.save(portal.documents.stored_name(document.content_type), handle)
        SharedDocument.objects.filter(pk=document.pk).update(file=new_name)
        moved.append(name)

    def delete_old_files():
        for name in moved:
            old.delete(name)

    transaction.on_commit(delete_old_files, using=schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="shareddocument",
            name="file",
            field=models.FileField(
                max_length=300,
                storage=portal.documents.document_storage,
                upload_to=portal.documents.document_path,
                verbose_name="file",
            ),
        ),
        migrations.RunPython(move_to_private_storage, migrations.RunPython.noop, elidable=True),
    ]
