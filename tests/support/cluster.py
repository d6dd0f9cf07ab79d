"""Several `serve` and `worker` processes on one database, as a deployment behind a proxy runs them.

Every `serve` process gets the same `SAMLENG_PUBLIC_URL` (the address Twilio signs, the proxy's),
each on its own loopback port; a request may reach any of them, as a proxy spreading load would
send it. Processes are `tests.support.e2e.Proc`s with their output in files; `Cluster.logs()`
shows them all.
"""

from __future__ import annotations

import itertools
import signal
from typing import Any

import httpx

from tests.support.e2e import START, Deployment, Proc, cli_command, wait_until
from tests.support.server import free_port
from tests.support.telegram_fake import SECRET, WEBHOOK_PATH
from tests.support.twilio_fake import Phone


class Cluster:
    def __init__(self, deployment: Deployment) -> None:
        self.d = deployment
        self.serves: dict[int, Proc] = {}  # port -> process
        self.workers: list[Proc] = []
        self.clients: dict[int, httpx.Client] = {}
        self._names = itertools.count(1)

    # -- processes ------------------------------------------------------------------------------
    def start_serve(self, port: int | None = None, *, wait: bool = True, **env: str) -> int:
        port = port or free_port()
        proc = Proc(f"serve-{next(self._names)}", cli_command("serve", "--host", "127.0.0.1", "--port", str(port)),
                    {**self.d.env, **env}, self.d.log_dir)
        # The client first: sending threads pick a port from `ports` (the live serves) at any moment.
        self.clients.setdefault(port, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30))
        self.serves[port] = proc
        if wait:
            self.wait_serving(port)
        return port

    def wait_serving(self, port: int) -> None:
        proc, client = self.serves[port], self.clients[port]

        def up() -> bool:
            if not proc.alive:
                raise AssertionError(f"{proc.name} exited {proc.popen.returncode}\n{self.logs()}")
            try:
                return client.get("/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False
        wait_until(up, timeout=START, interval=0.2, what=f"{proc.name} to answer /healthz", logs=self.logs)

    def kill_serve(self, port: int) -> None:
        """SIGKILL: no clean-up of any kind (a power cut, the OOM killer)."""
        proc = self.serves[port]
        proc.popen.send_signal(signal.SIGKILL)
        proc.popen.wait(30)
        self.d.finished.append(proc)

    def start_worker(self, *, interval: float = 0.2, **env: str) -> Proc:
        proc = Proc(f"worker-{next(self._names)}", cli_command("worker", "--interval", str(interval)),
                    {**self.d.env, **env}, self.d.log_dir)
        self.workers.append(proc)
        return proc

    @property
    def ports(self) -> list[int]:
        return [port for port, proc in self.serves.items() if proc.alive]

    def logs(self) -> str:
        parts = [self.d.logs()]
        for proc in [*self.serves.values(), *self.workers]:
            if proc not in self.d.finished:
                parts.append(f"--- {proc.name} ({'running' if proc.alive else f'exit {proc.popen.returncode}'}) "
                             f"---\n{proc.output()[-4000:]}")
        return "\n".join(parts)

    def check_alive(self) -> None:
        for proc in [*self.workers, *(p for p in self.serves.values() if p not in self.d.finished)]:
            if not proc.alive:
                raise AssertionError(f"{proc.name} exited {proc.popen.returncode}\n{self.logs()}")

    def close(self) -> None:
        for proc in [*self.workers, *self.serves.values()]:
            if proc.alive:
                proc.stop()
        for client in self.clients.values():
            client.close()

    # -- the outside world, through any serve process ----------------------------------------------
    def phone(self, number: str, port: int) -> Phone:
        """A phone whose requests reach the serve process on `port`, signed for the public URL."""
        return Phone(client=self.clients[port], base_url=self.d.base_url, number=number)

    def post_update(self, port: int, update: dict[str, Any]) -> int:
        """One Telegram update to the serve process on `port`; its HTTP status (0: no answer)."""
        try:
            return self.clients[port].post(WEBHOOK_PATH, json=update,
                                           headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}).status_code
        except httpx.HTTPError:
            return 0
