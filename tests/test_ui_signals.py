"""`disclosure ui` stops, children included, within 5 s of SIGTERM or SIGINT, even when started the way
that used to hang it: as a background job, with SIGINT and SIGTERM ignored (a non-interactive shell's
`disclosure ui &`), which `dagster dev` inherited and then ignored both signals for 25 s.

These tests drive `app.cli.run_process_group` (what `disclosure ui` runs `dagster dev` with) on small
Python children; tests/test_dagster_ui.py starts the real `disclosure ui` that way and stops it with
SIGTERM. Every process a test starts is ended by pid, never by name.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.processes import ignore_int_and_term, is_alive, kill_leftovers, pgid_of, wait_until_gone

pytestmark = pytest.mark.slow  # subprocesses that wait for signals

PROJECT_ROOT = Path(__file__).resolve().parents[1]


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
    try:  # from the line on: the test may signal as soon as it has read it
        print(os.getpid(), grandchild.pid, flush=True)
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
