"""`make up`: the embedded stack starts, every service answers /readyz, SIGINT stops every child process."""

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from jinlin.runtime.ports import free_port
from jinlin.service import registered_services

ROOT = Path(__file__).resolve().parents[2]


def _children_of(pid: int) -> set[int]:
    """Every descendant process of ``pid`` (from /proc), so the test can check none outlives the stack."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_make_up_starts_everything_and_sigint_stops_it(tmp_path: Path) -> None:
    specs = registered_services()
    assert specs, "no service is registered"
    ports = {spec.name: free_port() for spec in specs}
    env = dict(os.environ, JINLIN_VAR_DIR=str(tmp_path / "var"), JINLIN_NATS_PORT=str(free_port()))
    for spec in specs:
        env[f"{spec.env_prefix}PORT"] = str(ports[spec.name])
        env.pop(f"{spec.env_prefix}DATABASE_URL", None)
        env.pop(f"{spec.env_prefix}NATS_URL", None)
    output = tmp_path / "make-up.out"
    with open(output, "wb") as out:
        make = subprocess.Popen(
            ["make", "-s", "up"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_for(lambda: b"ready." in output.read_bytes() or make.poll() is not None, 120, "the stack to be ready")
        assert make.poll() is None, output.read_text()
        for spec in specs:
            url = f"http://127.0.0.1:{ports[spec.name]}"
            assert url in output.read_text(), f"{spec.name}'s URL is not printed"
            assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200
        children = _children_of(make.pid)
        assert len(children) >= len(specs) + 2, "expected make, the runner, nats-server and each service"
        assert (tmp_path / "var" / "nats").is_dir()
        for spec in specs:
            assert (tmp_path / "var" / f"{spec.name}.sqlite3").exists()

        # What a terminal's Ctrl-C does: SIGINT to the foreground process group (make and the runner).
        os.killpg(make.pid, signal.SIGINT)
        make.wait(timeout=60)
        _wait_for(lambda: not any(_alive(pid) for pid in children), 30, "every child process to exit")
        assert "stopped." in output.read_text()
    finally:
        if make.poll() is None:
            make.kill()
        for pid in _children_of(make.pid):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("what", ["nats", "service"])
def test_a_taken_port_is_a_clear_error(tmp_path: Path, what: str) -> None:
    import socket

    specs = registered_services()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    args = [str(ROOT / ".venv" / "bin" / "jinlin"), "up", "--var-dir", str(tmp_path / "var")]
    if what == "nats":
        args += ["--nats-port", str(taken)]
    else:
        args += ["--nats-port", str(free_port()), "--port", f"{specs[0].name}={taken}"]
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    finally:
        blocker.close()
    assert result.returncode != 0
    assert str(taken) in result.stderr
    assert "already in use" in result.stderr
