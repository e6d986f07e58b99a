"""`make run`: serve the app with a Celery worker and beat; without Redis, serve pages and run tasks eagerly."""

import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
LOGINS_FILE = ROOT / ".venv" / "demo-logins.txt"
ZOHO_DEMO_PORT = 8765  # settings.CRM_DEMO_URL and the Procfile's zoho entry


def redis_reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def port_in_use(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def main() -> int:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    # honcho gives the first Procfile process $PORT, else 5000: make it the 8000 the README and logins promise.
    env.setdefault("PORT", "8000")
    redis_url = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    processes = ["web", "worker", "beat"]
    procfile = (ROOT / "Procfile").read_text()
    processes += [line.split(":", 1)[0] for line in procfile.splitlines()
                  if line and line.split(":", 1)[0] not in processes]
    if not redis_reachable(redis_url):
        print(f"WARNING: Redis is not reachable at {redis_url}. Serving pages without a Celery worker or beat:"
              " tasks run eagerly inside the web process, and the two-hourly CRM sync will not be scheduled.",
              file=sys.stderr)
        env["REDIS_AVAILABLE"] = "0"
        processes = [p for p in processes if p not in ("worker", "beat")]
    if port_in_use(int(env["PORT"])):
        print(f"Port {env['PORT']} is already in use: stop what runs there, or choose another port"
              " with `PORT=8001 make run`.", file=sys.stderr)
        return 1
    # honcho stops every process when one exits: a fake CRM that cannot bind its port would take
    # the web server down with it. The demo CRM connection talks to whatever answers on that port.
    if "zoho" in processes and port_in_use(ZOHO_DEMO_PORT):
        print(f"NOTE: port {ZOHO_DEMO_PORT} is already in use, so the demo Zoho CRM is not started here;"
              " the CRM sync demo uses whatever answers on that port.", file=sys.stderr)
        processes.remove("zoho")
    command = [str(ROOT / ".venv" / "bin" / "honcho"), "-d", str(ROOT), "start", *processes]
    with subprocess.Popen(command, env=env, cwd=ROOT) as honcho:
        try:
            # The processes' start-up logs scroll past the logins load_demo printed: repeat them.
            honcho.wait(timeout=6)
        except subprocess.TimeoutExpired:
            logins = LOGINS_FILE.read_text() if LOGINS_FILE.exists() else ""
            print(f"\n{logins}\nPress Ctrl+C to stop.\n", flush=True)
        try:
            return honcho.wait()
        except KeyboardInterrupt:
            honcho.terminate()
            return honcho.wait()


if __name__ == "__main__":
    sys.exit(main())
