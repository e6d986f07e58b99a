import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit_or_parallel_workers():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
        cursor.execute("SHOW max_parallel_workers_per_gather")
        parallel = cursor.fetchone()[0]

    assert (jit, parallel) == ("off", "0")
