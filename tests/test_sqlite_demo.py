"""`make run`'s embedded default: every migration applies on SQLite, the demo loads there, consistent, and
every portal page of the demo head office answers."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_migrations_and_the_demo_work_on_sqlite(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "REDIS_AVAILABLE": "0"}

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=240)

    for step in (("migrate", "--noinput"), ("load_demo",), ("check_ledger",)):
        done = manage(*step)
        assert done.returncode == 0, f"{' '.join(step)} failed:\n{done.stderr[-3000:]}"
    assert "Ledger consistent" in done.stdout
    walked = manage("shell", "-c", (ROOT / "tests" / "sqlite_portal_walk.py").read_text())
    assert "portal walk failures: []" in walked.stdout, walked.stdout[-3000:] + walked.stderr[-3000:]
