"""`disclosure ui` stops, children included, within 5 s of SIGTERM or SIGINT, even when started the way
that used to hang it: as a background job, with SIGINT and SIGTERM ignored (a non-interactive shell's
`disclosure ui &`), which `dagster dev` inherited and then ignored both signals for 25 s.

The fast tests drive `app.cli.run_process_group` (what `disclosure ui` runs `dagster dev` with)
on small Python children; the slow ones start the real `disclosure ui` on a free port.
Every process a test starts is ended by pid, never by name.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.processes import descendants, proc_stat

pytestmark = pytest.mark.slow  # starts the UI in subprocesses

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DISCLOSURE = Path(sys.executable).with_name("disclosure")
STOP_LIMIT = 5.0            # seconds from the signal until no process of the UI is left
START_TIMEOUT = 150         # `dagster dev` answers after ~8 s on an idle machine, far later on a busy one


# --- processes, read from /proc -----------------------------------------------------------------------------

def is_alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as ended)."""
    fields = proc_stat(pid)
    return fields is not None and fields[0] != "Z"


def group_members(pgids: set[int]) -> set[int]:
    """Live (non-zombie) processes whose process group is one of pgids."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := proc_stat(int(entry.name))) and fields[0] != "Z" \
                and int(fields[2]) in pgids:
            found.add(int(entry.name))
    return found


def pgid_of(pid: int) -> int | None:
    fields = proc_stat(pid)
    return int(fields[2]) if fields else None


def kill_leftovers(pids: set[int]) -> None:
    """SIGKILL the processes this test started that are still there (by pid, never by name)."""
    for pid in pids:
        if is_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def ignore_int_and_term() -> None:
    """In the child before exec: what a non-interactive shell does for `cmd &` (and worse, TERM too)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def wait_until_gone(pids: set[int], pgids: set[int], limit: float) -> tuple[float, set[int]]:
    """(seconds waited, processes still alive) once none of pids nor any member of pgids is alive,
    or at limit + 3 s (so a failure shows how late, not only that)."""
    start = time.monotonic()
    while True:
        alive = {p for p in pids if is_alive(p)} | group_members(pgids)
        elapsed = time.monotonic() - start
        if not alive or elapsed > limit + 3:
            return elapsed, alive
        time.sleep(0.05)


# --- run_process_group on small children ----------------------------------------------------------------------

# A child that starts a grandchild (same group), reports both pids, and then sleeps. With
# IGNORE_TERM it ignores SIGTERM/SIGINT itself, as a process that does not stop on request.
CHILD = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    if os.environ.get("IGNORE_TERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        # what this test checks: the child starts with the default action whatever its parent ignored
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, signal.getsignal(signal.SIGINT)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, signal.getsignal(signal.SIGTERM)
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print(os.getpid(), grandchild.pid, flush=True)
    try:
        time.sleep(600)
    except KeyboardInterrupt:
        sys.exit(130)
""")

# The parent: `disclosure ui` without Dagster, i.e. run_process_group on CHILD.
RUNNER = textwrap.dedent("""
    import sys
    from app.cli import run_process_group
    sys.exit(run_process_group([sys.executable, "-c", sys.argv[1]], grace=float(sys.argv[2])))
""")


def start_runner(tmp_path: Path, grace: float = 4.0, ignore_term: bool = False):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    if ignore_term:
        env["IGNORE_TERM"] = "1"
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, CHILD, str(grace)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=ignore_int_and_term)
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        pytest.fail(f"the runner printed nothing; exit {proc.returncode}:\n{proc.stderr.read()[-3000:]}")
    child, grandchild = map(int, line.split())
    return proc, child, grandchild


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_stops_the_child_group_started_with_signals_ignored(tmp_path, sig):
    proc, child, grandchild = start_runner(tmp_path)
    known = {proc.pid, child, grandchild}
    try:
        assert pgid_of(child) == pgid_of(grandchild) == child != pgid_of(proc.pid)   # a group of its own
        os.kill(proc.pid, sig)                   # the runner only: it forwards to the child's group
        seconds, alive = wait_until_gone(known, {child}, 2.0)
        assert not alive, f"still alive {seconds:.1f} s after {sig.name}: {alive}"
        assert proc.wait(timeout=5) == 128 + sig
        assert "Traceback" not in proc.stderr.read()
    finally:
        kill_leftovers(known)


def test_a_child_that_ignores_the_signal_is_killed_after_the_grace_period(tmp_path):
    proc, child, grandchild = start_runner(tmp_path, grace=1.0, ignore_term=True)
    known = {proc.pid, child, grandchild}
    try:
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGTERM)
        seconds, alive = wait_until_gone(known, {child}, 1.0)
        assert not alive, f"still alive {seconds:.1f} s after SIGTERM: {alive}"
        assert 0.8 < seconds < 3.0, seconds     # waited for the grace period, then SIGKILL
        assert proc.wait(timeout=5) == 128 + signal.SIGTERM
    finally:
        kill_leftovers(known)


def test_when_the_child_exits_its_group_goes_too_and_its_code_is_returned(tmp_path):
    script = ("import subprocess, sys, time; "
              "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
              "print(g.pid, flush=True); sys.exit(3)")
    code = ("import sys; from app.cli import run_process_group; "
            "sys.exit(run_process_group([sys.executable, '-c', sys.argv[1]], grace=2.0))")
    proc = subprocess.run([sys.executable, "-c", code, script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=30, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    grandchild = int(proc.stdout.split()[0])
    try:
        assert proc.returncode == 3, proc.stderr
        assert not is_alive(grandchild), "the grandchild outlived `disclosure ui`"
    finally:
        kill_leftovers({grandchild})


# --- the real `disclosure ui` ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_info(base: str) -> dict | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))    # loopback, never a proxy
    try:
        with opener.open(f"{base}/server_info", timeout=3) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return None


# One real UI start (~40 s): SIGINT and SIGHUP reach the same group forwarding, tested fast above.
@pytest.mark.parametrize("sig", [signal.SIGTERM], ids=lambda s: s.name)
def test_disclosure_ui_stops_within_5_seconds(tmp_path, sig):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("DISCLOSURE_LIVE_CRAWL", None)
    log = tmp_path / "ui.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(DISCLOSURE), "ui", "--port", str(port)], cwd=PROJECT_ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, preexec_fn=ignore_int_and_term)
    known = {proc.pid}
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while server_info(base) is None:
            if proc.poll() is not None:
                pytest.fail(f"`disclosure ui` exited {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no answer on {base} within {START_TIMEOUT} s:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        known |= descendants(proc.pid)
        groups = {pgid_of(p) for p in known} - {None}
        assert len(known) >= 4, known        # disclosure, dagster dev, its webserver and code server at least
        os.kill(proc.pid, sig)               # as a terminal's Ctrl-C or a service manager's stop would
        seconds, alive = wait_until_gone(known, groups, STOP_LIMIT)
        assert not alive, f"still alive {seconds:.1f} s after {sig.name}: {alive}"
        assert seconds < STOP_LIMIT, f"`disclosure ui` took {seconds:.1f} s to stop on {sig.name}"
        assert proc.wait(timeout=5) == 128 + sig
        assert "Traceback" not in log.read_text(errors="replace")
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"something still answers on {port}"
        print(f"`disclosure ui` stopped {seconds:.2f} s after {sig.name}")
    finally:
        kill_leftovers(known | descendants(proc.pid))
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
