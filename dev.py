#!/usr/bin/env python3
"""Samleng's two commands, for a fresh clone on a machine with only python3.

    python3 dev.py demo   # set up, migrate, load demo data, run web app + worker on SQLite
    python3 dev.py test   # set up, lint, check the import contract and the types, run the whole test suite
                          # (SQLite and PostgreSQL)
    python3 dev.py screenshots   # refresh docs/screenshots/ from the demo (tools/screenshots.py)

Everything is installed into .venv; a throwaway PostgreSQL cluster is started on
127.0.0.1 for the tests (Debian's postgresql package is installed when missing and
this runs as root, as CI does).
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(cmd: list[str], **kw: object) -> None:
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def ensure_venv() -> None:
    """Create .venv and install the project with its test extras when pyproject.toml changed."""
    if not (BIN / "python").exists():
        say("creating .venv")
        run([sys.executable, "-m", "venv", str(VENV)])
    stamp = VENV / ".samleng-install"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    say("installing packages into .venv (first run takes a minute)")
    run([str(BIN / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([str(BIN / "python"), "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]"])
    stamp.write_text(digest)


def demo() -> int:
    ensure_venv()
    if ensure_debian_packages(DEMO_PACKAGES):  # only for `samleng report quarterly`; the demo runs without
        say("the demo runs; `samleng report quarterly` will say what it is missing")
    env = {**os.environ}
    samleng = str(BIN / "samleng")
    run([samleng, "migrate"], cwd=ROOT, env=env)
    env.setdefault("SAMLENG_INTAKE_ORG", "khana-demo")  # new, unrouted reports show in KHANA's queue
    run([samleng, "demo"], cwd=ROOT, env=env)
    say("demo users: handler@khana.demo, supervisor@khana.demo, admin@samleng.demo "
        "(password samleng-demo-password)")
    say("SMS webhook: POST http://127.0.0.1:8000/webhooks/twilio/sms ; health: /healthz /readyz /metrics ; "
        "API docs: /api/docs ; review queue: http://127.0.0.1:8000/")
    say("emails, SMS and Telegram messages are not sent in development: read them (as admin) at "
        "http://127.0.0.1:8000/dev/outbox")
    port = os.environ.get("PORT", "8000")
    children = [subprocess.Popen([samleng, "worker"], cwd=ROOT, env=env),
                subprocess.Popen([samleng, "serve", "--host", "127.0.0.1", "--port", port], cwd=ROOT, env=env)]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        return children[1].wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()


# -- PostgreSQL for the tests ------------------------------------------------------------------

def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """An initdb'd cluster in a temporary folder, listening on 127.0.0.1 only."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable  # True: PostgreSQL's durable defaults (benchmarks), not the test-speed settings
        self.dir = Path(tempfile.mkdtemp(prefix="samleng-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # postgres refuses to run as root
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _pg(self, *args: str) -> None:
        run([*self.as_user, *args], stdout=subprocess.DEVNULL)

    def start(self) -> str:
        self._pg(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--locale=C.UTF-8")
        # Test-only speed: this cluster is thrown away. Production keeps PostgreSQL's durable defaults.
        opts = f"-c listen_addresses=127.0.0.1 -c port={self.port} -k {self.dir} -c max_connections=200"
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._pg(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"),
                 "-w", "start")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                        "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


# -- Debian packages the tests need ---------------------------------------------------------------
# Chromium runs the browser tests and prints the quarterly PDF (Playwright drives /usr/bin/chromium;
# never `playwright install`); Khmer OS fonts render Khmer and DejaVu the Latin text; poppler-utils'
# pdftotext checks the PDF; postgresql for the PostgreSQL half of the suite (when no server is given).
# `dev.py demo` installs only chromium and the fonts, for `samleng report quarterly`, and only as root.
DEBIAN_PACKAGES = ["chromium", "fonts-khmeros", "fonts-dejavu-core", "poppler-utils"]
DEMO_PACKAGES = ["chromium", "fonts-khmeros", "fonts-dejavu-core"]
APT_LOCK_WAIT = ["-o", "DPkg::Lock::Timeout=600"]  # a fresh machine may still be running its own apt


def _missing_debian(packages: list[str]) -> list[str]:
    if not shutil.which("dpkg-query"):
        return []
    return [p for p in packages
            if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True)
            .stdout.strip() != "install ok installed"]


def ensure_debian_packages(packages: list[str]) -> list[str]:
    """apt-get install whichever of these Debian packages is missing (only as root with apt-get, never
    asking: no terminal is needed). Returns the ones still missing."""
    missing = _missing_debian(packages)
    if not missing:
        return []
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        say(f"missing Debian packages (install them as root): {' '.join(missing)}")
        return missing
    say(f"installing Debian packages: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", *APT_LOCK_WAIT, "update", "-qq"], env=env, stdin=subprocess.DEVNULL)
    run(["apt-get", *APT_LOCK_WAIT, "install", "-y", "-qq", "--no-install-recommends", *missing], env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return _missing_debian(packages)


def import_contract() -> int:
    """The layer contract (.importlinter): lower layers never import higher ones, no two packages of
    service import each other, the core never imports bots. lint-imports says which import broke it."""
    say("checking the import contract (.importlinter)")
    code = subprocess.call([str(BIN / "lint-imports"), str(ROOT / ".importlinter"), "--no-cache", "--no-logo"],
                           cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if code != 0:
        say("the import contract is broken (above: which import, and how to fix it); "
            "docs/architecture.md, \"Layers and the import contract\"")
    return code


def lint() -> int:
    """ruff over the code (pyflakes' rules and syntax errors: an undefined name, an unused or shadowed
    import, an f-string without a field), then its formatter's check; pyproject.toml [tool.ruff] says
    which rules and why."""
    say("linting (ruff check service bots)")
    code = subprocess.call([str(BIN / "ruff"), "check", "--quiet", "service", "bots"], cwd=ROOT)
    if code != 0:
        say("ruff found the problems above (fix them; `# noqa: <code>` with a reason only for a deliberate case)")
        return code
    say("formatting check (ruff format --check service bots)")
    code = subprocess.call([str(BIN / "ruff"), "format", "--check", "--quiet", "service", "bots"], cwd=ROOT)
    if code != 0:
        say("these files are not formatted: run `.venv/bin/ruff format service bots` and commit the result")
    return code


def typecheck() -> int:
    """mypy over service and bots (pyproject.toml [tool.mypy]: the files, pydantic's plugin, the
    libraries without types); an unneeded `# type: ignore` is an error too."""
    say("type checking (mypy)")
    code = subprocess.call([str(BIN / "mypy")], cwd=ROOT)
    if code != 0:
        say("mypy found the type errors above (fix the annotation or narrow the value with a check; "
            "`# type: ignore[<code>]` with a reason only where a library's types are wrong)")
    return code


def test(extra: list[str]) -> int:
    ensure_venv()
    if lint() != 0 or import_contract() != 0 or typecheck() != 0:
        return 1
    env = {**os.environ}
    sqlite_only = env.get("SAMLENG_TEST_BACKENDS") == "sqlite" and not IN_CI
    wanted = list(DEBIAN_PACKAGES)
    if not sqlite_only and not env.get("SAMLENG_TEST_POSTGRES_URL") and _pg_bindir() is None:
        wanted.append("postgresql")
    still_missing = ensure_debian_packages(wanted)  # one apt-get run for all of them
    if still_missing and IN_CI:
        say(f"CI needs these Debian packages and could not install them: {' '.join(still_missing)}")
        return 1
    cluster = None
    backends = ["sqlite"]
    if sqlite_only:
        say("SAMLENG_TEST_BACKENDS=sqlite: skipping PostgreSQL (CI always runs both)")
    elif env.get("SAMLENG_TEST_POSTGRES_URL"):
        backends.append("postgresql")
    else:
        bindir = _pg_bindir()
        if bindir is not None:
            cluster = ThrowawayPostgres(bindir)
            env["SAMLENG_TEST_POSTGRES_URL"] = cluster.start()
            backends.append("postgresql")
            say(f"PostgreSQL test cluster on 127.0.0.1:{cluster.port}")
        elif IN_CI:
            say("PostgreSQL could not be installed; CI must test both databases")
            return 1
        else:
            say("WARNING: no PostgreSQL here; running the SQLite half of the suite only")
    env["SAMLENG_TEST_BACKENDS"] = ",".join(backends)
    env.setdefault("SAMLENG_VAR_DIR", tempfile.mkdtemp(prefix="samleng-var-"))
    try:
        code = subprocess.call([str(BIN / "python"), "-m", "pytest", *extra], cwd=ROOT, env=env)
    finally:
        if cluster is not None:
            cluster.stop()
    if code == 5:
        say("pytest collected no tests: that is a failure")
        return 1
    return code


def screenshots(extra: list[str]) -> int:
    ensure_venv()
    if ensure_debian_packages(DEMO_PACKAGES):
        return 1
    return subprocess.call([str(BIN / "python"), str(ROOT / "tools" / "screenshots.py"), *extra], cwd=ROOT)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "screenshots"):
        print(__doc__)
        return 2
    if argv[0] == "screenshots":
        return screenshots(argv[1:])
    return demo() if argv[0] == "demo" else test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
