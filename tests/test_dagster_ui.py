"""`disclosure ui` for real: the Dagster webserver on 127.0.0.1, its GraphQL API, and the asset catalog
rendered in headless chromium. The server runs in its own process group and is always stopped.

It is started the way that used to hang it: as a background job does, with SIGINT and SIGTERM ignored,
which `dagster dev` inherited (../shared/DESIGN.md); SIGTERM to `disclosure ui` alone, as a service
manager sends it, must still end every process of it within 5 s (tests/test_ui_signals.py covers
the process-group runner behind it).
"""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.processes import descendants, ignore_int_and_term, is_alive, pgid_of, wait_until_gone

from tests.browser import png_is_not_blank, save_copy, screenshot
from pipelines.definitions import IDENTITY_CHECKS

pytestmark = pytest.mark.slow  # starts the Dagster UI

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DISCLOSURE = Path(sys.executable).with_name("disclosure")
START_TIMEOUT = 90          # seconds for /server_info and the code location to answer
STOP_TIMEOUT = 20           # seconds between SIGTERM and SIGKILL when the fixture cleans up
STOP_LIMIT = 5.0            # seconds from SIGTERM until no process of the UI is left

EXPECTED_ASSETS = {"raw_archive", "parsed_reports", "dim_report", "fct_requests", "mart_agency_year"}
EXPECTED_CHECKS = set(IDENTITY_CHECKS) | {"every_source_yields_reports"}
SCHEDULE = "nightly_crawl_parse_build"

# Looked up in dagster_graphql/schema: Query.assetNodes -> AssetNode.assetKey.path and
# AssetNode.isPartitioned / partitionKeys, AssetNode.assetChecksOrError (union AssetChecksOrError: AssetChecks.checks[].name);
# Query.repositoriesOrError (union RepositoriesOrError: RepositoryConnection.nodes[]) ->
# Repository.schedules[] (Schedule.name, cronSchedule, executionTimezone, scheduleState.status).
QUERY = """
query DisclosureDefinitions {
  assetNodes {
    assetKey { path }
    groupName
    isPartitioned
    partitionKeys
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name } }
    }
  }
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        jobs { name }
        schedules { name cronSchedule executionTimezone scheduleState { status } }
      }
    }
    ... on PythonError { message }
  }
}
"""


# --- processes and sockets, read from /proc --------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def socket_inodes(pids: set[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def _address(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    # /proc/net/tcp6 prints four 32-bit words, each in host (little-endian) order
    return str(ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))))


def listening_sockets() -> list[tuple[str, int, str]]:
    """(address, port, inode) of every TCP socket in LISTEN state on this machine."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != "0A":       # TCP_LISTEN
                continue
            addr, port = fields[1].split(":")
            found.append((_address(addr), int(port, 16), fields[9]))
    return found


def is_loopback(addr: str) -> bool:
    ip = ipaddress.ip_address(addr)
    return ip.is_loopback or (ip.version == 6 and ip.ipv4_mapped is not None and ip.ipv4_mapped.is_loopback)


def stop_group(proc: subprocess.Popen, known: set[int]) -> None:
    """SIGTERM to the process group, SIGKILL after STOP_TIMEOUT; then SIGKILL any straggler we started."""
    known |= descendants(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        alive = [pid for pid in known if is_alive(pid)]
        if not alive:
            return
        time.sleep(0.2)
    for pid in alive:            # only processes this test started (by pid, never by name)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --- HTTP ------------------------------------------------------------------------------------------------

def get_json(url: str, payload: dict | None = None, timeout: float = 10) -> dict:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))    # loopback, never a proxy
    with opener.open(req, timeout=timeout) as resp:
        return json.loads(resp.read().decode("utf-8"))


def wait_for_definitions(proc: subprocess.Popen, base: str, log: Path) -> dict:
    """Poll /server_info, then GraphQL until the code location has loaded its assets (bounded)."""
    deadline = time.monotonic() + START_TIMEOUT
    info, last_error = None, None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`disclosure ui` exited {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if info is None:
                info = get_json(f"{base}/server_info", timeout=3)
            result = get_json(f"{base}/graphql", {"query": QUERY}, timeout=15)
            if "errors" in result:
                last_error = result["errors"]
            elif result["data"]["assetNodes"]:
                return {"server_info": info, **result["data"]}
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError) as exc:
            last_error = exc
        time.sleep(0.5)
    pytest.fail(f"the Dagster UI did not serve the definitions within {START_TIMEOUT} s "
                f"(last: {last_error!r}):\n{log.read_text(errors='replace')[-3000:]}")


class UiServer:
    """`disclosure ui` in its own process group, started with SIGINT and SIGTERM ignored."""

    def __init__(self, root: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        home = root / "dagster_home"
        home.mkdir()
        shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
        self.log = root / "ui.log"
        env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        env.pop("DISCLOSURE_LIVE_CRAWL", None)
        started = time.monotonic()
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [str(DISCLOSURE), "ui", "--port", str(self.port)],
                cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,         # its own process group: cleaned up as a whole
                preexec_fn=ignore_int_and_term)
        self.known: set[int] = {self.proc.pid}
        try:
            self.data = wait_for_definitions(self.proc, self.base, self.log)
            self.startup_seconds = time.monotonic() - started
            self.known |= descendants(self.proc.pid)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> float:
        """Stop the whole group (idempotent); returns the seconds it took."""
        start = time.monotonic()
        if self.proc.returncode is None:
            stop_group(self.proc, self.known)
        return time.monotonic() - start


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    server = UiServer(tmp_path_factory.mktemp("dagster_ui"))
    try:
        yield server
    finally:
        server.stop()


def test_graphql_lists_every_asset_check_and_the_schedule(dagster_ui):
    data = dagster_ui.data
    assert "dagster_webserver_version" in data["server_info"], data["server_info"]
    assets = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
    assert EXPECTED_ASSETS <= set(assets), sorted(assets)
    assert assets["raw_archive"]["groupName"] == "acquire"
    assert assets["parsed_reports"]["groupName"] == "parse"
    assert assets["mart_agency_year"]["groupName"] == "warehouse"
    checks: dict[str, str] = {}
    for key, node in assets.items():
        result = node["assetChecksOrError"]
        assert result["__typename"] == "AssetChecks", (key, result)
        checks.update({c["name"]: key for c in result["checks"]})
    assert EXPECTED_CHECKS <= set(checks), sorted(checks)
    assert checks["every_source_yields_reports"] == "raw_archive"
    assert {checks[c] for c in IDENTITY_CHECKS} == {"fct_check_results"}
    repos = data["repositoriesOrError"]
    assert repos["__typename"] == "RepositoryConnection", repos
    schedules = {s["name"]: s for r in repos["nodes"] for s in r["schedules"]}
    assert SCHEDULE in schedules, sorted(schedules)
    nightly = schedules[SCHEDULE]
    assert (nightly["cronSchedule"], nightly["executionTimezone"]) == ("30 2 * * *", "Asia/Shanghai")
    assert nightly["scheduleState"]["status"] == "STOPPED"     # off unless someone turns it on
    assert {"crawl_parse_build", "backfill_report_years"} <= {j["name"] for r in repos["nodes"] for j in r["jobs"]}
    # one report_year partition per year since 2008, for backfills from the UI; the warehouse is not partitioned
    parsed = assets["parsed_reports"]
    assert parsed["isPartitioned"] and parsed["partitionKeys"][:2] == ["2008", "2009"], parsed["partitionKeys"]
    assert not assets["mart_agency_year"]["isPartitioned"]
    print(f"dagster ui answered after {dagster_ui.startup_seconds:.1f} s; {len(assets)} assets, {len(checks)} checks")


def test_every_listening_socket_is_loopback(dagster_ui):
    inodes = socket_inodes(dagster_ui.known | descendants(dagster_ui.proc.pid))
    ours = [(addr, p) for addr, p, inode in listening_sockets() if inode in inodes]
    assert dagster_ui.port in {p for _, p in ours}, (dagster_ui.port, ours)
    assert all(is_loopback(addr) for addr, _ in ours), f"listening beyond loopback: {ours}"
    # and nothing answers on the UI port at a wildcard address
    assert not [addr for addr, p, _ in listening_sockets() if p == dagster_ui.port and addr in ("0.0.0.0", "::")]


def test_asset_catalog_renders_in_chromium(dagster_ui, tmp_path):
    png = screenshot(f"{dagster_ui.base}/assets", tmp_path / "dagster_ui.png")
    save_copy(png, "dagster_ui.png")
    assert png_is_not_blank(png), f"blank screenshot of {dagster_ui.base}/assets: {png}"


def test_sigterm_ends_every_process_within_5_seconds_and_frees_the_port(dagster_ui):
    known = dagster_ui.known | descendants(dagster_ui.proc.pid)
    assert len(known) >= 4, known          # disclosure, dagster dev, its webserver and code server at least
    groups = {pgid_of(p) for p in known} - {None}
    os.kill(dagster_ui.proc.pid, signal.SIGTERM)      # to `disclosure ui` alone, as a service manager would
    seconds, alive = wait_until_gone(known, groups, STOP_LIMIT)
    assert not alive, f"still alive {seconds:.1f} s after SIGTERM: {alive}"
    assert seconds < STOP_LIMIT, f"`disclosure ui` took {seconds:.1f} s to stop on SIGTERM"
    assert dagster_ui.proc.wait(timeout=5) == 128 + signal.SIGTERM
    assert "Traceback" not in dagster_ui.log.read_text(errors="replace")
    assert not [s for s in listening_sockets() if s[1] == dagster_ui.port], f"port {dagster_ui.port} still listened on"
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.1", dagster_ui.port)) != 0, f"something still answers on {dagster_ui.port}"
    print(f"`disclosure ui` stopped {seconds:.2f} s after SIGTERM")
