"""`make demo`: the stack starts, the story is played, the case id and its timeline's URL are printed, the stack keeps
running until Ctrl-C, which stops every child process. (Four households here; the default is the full 320.)"""

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from jinlin.demo.story import CASE_ID
from jinlin.runtime.ports import free_port
from jinlin.service import registered_services

ROOT = Path(__file__).resolve().parents[2]


def _children_of(pid: int) -> set[int]:
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
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_make_demo_plays_the_story_and_leaves_the_stack_running_until_ctrl_c(tmp_path: Path) -> None:
    specs = registered_services()
    ports = {spec.name: free_port() for spec in specs}
    env = dict(
        os.environ,
        JINLIN_VAR_DIR=str(tmp_path / "var"),
        JINLIN_NATS_PORT=str(free_port()),
        JINLIN_DEMO_HOUSEHOLDS="4",
    )
    env.pop("JINLIN_STAFF_TOKENS", None)
    env.pop("JINLIN_STAFF_TOKENS_FILE", None)
    for spec in specs:
        env[f"{spec.env_prefix}PORT"] = str(ports[spec.name])
        env.pop(f"{spec.env_prefix}DATABASE_URL", None)
        env.pop(f"{spec.env_prefix}NATS_URL", None)
    output = tmp_path / "make-demo.out"
    with open(output, "wb") as out:
        make = subprocess.Popen(
            ["make", "-s", "demo"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_for(lambda: b"Ctrl-C stops it" in output.read_bytes() or make.poll() is not None, 150, "the story")
        text = output.read_text()
        assert make.poll() is None, text
        console = f"http://127.0.0.1:{ports['staff-console']}"
        assert f"case      {CASE_ID}\n" in text
        assert f"timeline  {console}/cases/{CASE_ID}/timeline" in text
        assert "4 meters installed and 4 households switched" in text
        assert httpx.get(f"{console}/readyz", timeout=5).status_code == 200
        assert (tmp_path / "var" / "demo-staff-tokens.json").exists()
        children = _children_of(make.pid)

        os.killpg(make.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        make.wait(timeout=60)
        _wait_for(lambda: not any(_alive(pid) for pid in children), 30, "every child process to exit")
        assert "stopped." in output.read_text()
    finally:
        if make.poll() is None:
            make.kill()
        for pid in _children_of(make.pid):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
