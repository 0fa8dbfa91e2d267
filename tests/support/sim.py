"""Run the simulator as a real subprocess (``python -m rackpanel sim``) for tests.

    with running_simulator(path, failure_detector="fast") as sim:
        cluster = Cluster(sim.contact_points("DC1"), ...)
        sim.power("off", "DC1/RAC2")
        sim.state()
        sim.reset()

The process's output goes to a log file whose tail is shown when it fails to start.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rackpanel.simulator.cluster.admin_client import AdminClient
from rackpanel.topology import Inventory, load_inventory

REPO = Path(__file__).resolve().parents[2]
READY_LINE = "rackpanel sim: ready"
START_TIMEOUT = 60.0
DEMO_REPLICATION = "{'class': 'NetworkTopologyStrategy', 'DC1': 3, 'DC2': 3}"


class SimulatorError(RuntimeError):
    pass


@dataclass
class SimHandle:
    inventory: Inventory
    inventory_path: Path
    admin_url: str  # e.g. "http://127.0.0.1:9499"
    process: subprocess.Popen
    log_path: Path

    def contact_points(self, dc: str | None = None) -> list[str]:
        """Simulator addresses of the inventory's nodes (of one DC when given)."""
        return [str(p.sim_address) for p in self.inventory.nodes() if dc is None or p.dc == dc]

    @property
    def admin(self) -> AdminClient:
        """The product's own admin API client (what `rackpanel power` uses)."""
        return AdminClient(self.admin_url, timeout=10.0)

    def power(self, action: str, target: str, crash: bool = False) -> dict:
        """``action`` "off" or "on"; ``target`` DC1, DC1/RAC2, a node name or link:DC1-DC2."""
        return self.admin.power(action, target, crash)

    def state(self, views: str | None = None) -> dict:
        return self.admin.state(views)

    def reset(self) -> dict:
        """Everything powered on, links up, every observer's view UP immediately."""
        return self.admin.reset()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _wait_ready(process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        if READY_LINE in text:
            return
        if process.poll() is not None:
            raise SimulatorError(
                f"simulator exited with {process.returncode} before ready:\n{text[-4000:]}"
            )
        time.sleep(0.05)
    raise SimulatorError(
        f"simulator not ready after {timeout:.0f}s:\n{log_path.read_text()[-4000:]}"
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _with_open_files_soft_limit(soft: int) -> Callable[[], None]:
    """A ``preexec_fn`` giving the child ``soft`` as its RLIMIT_NOFILE soft limit (the hard
    limit is read here, in the parent: the child only makes the one system call)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@contextlib.contextmanager
def running_simulator(
    inventory_path: str | os.PathLike,
    *,
    failure_detector: str = "fast",
    admin: str | None = None,
    extra_args: Sequence[str] = (),
    open_files_soft_limit: int | None = None,
) -> Iterator[SimHandle]:
    """Start ``python -m rackpanel sim`` for the inventory; stop it (SIGTERM, then kill) on exit.

    ``open_files_soft_limit``: the open-files soft limit the process starts with (default: this
    process's own)."""
    path = Path(inventory_path)
    inventory = load_inventory(path)
    admin_address = admin or inventory.simulator.admin_address
    log_dir = Path(tempfile.mkdtemp(prefix="rackpanel-sim-"))
    log_path = log_dir / "simulator.log"
    command = [
        sys.executable,
        "-m",
        "rackpanel",
        "sim",
        "--inventory",
        str(path),
        "--failure-detector",
        failure_detector,
        "--admin",
        admin_address,
        *extra_args,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    preexec = None
    if open_files_soft_limit is not None:
        preexec = _with_open_files_soft_limit(open_files_soft_limit)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=preexec,
        )
    try:
        _wait_ready(process, log_path, START_TIMEOUT)  # its error quotes the log
        yield SimHandle(inventory, path, f"http://{admin_address}", process, log_path)
    finally:
        _stop(process)
        shutil.rmtree(log_dir, ignore_errors=True)


def driver_cluster(handle: SimHandle, local_dc: str | None = None, **kwargs):
    """A cassandra-driver ``Cluster`` on the simulator with test-friendly timings.

    Contact points are the nodes of ``local_dc`` (every node when None), the load balancing
    is token-aware DC-aware on ``local_dc`` when given (the default execution profile), and
    events apply at once (``*_event_refresh_window=0``). Any ``Cluster`` argument can be
    overridden.
    """
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

    settings: dict = {
        "contact_points": handle.contact_points(local_dc),
        "port": handle.inventory.ports.cql,
        "connect_timeout": 5,
        "control_connection_timeout": 5,
        "status_event_refresh_window": 0,
        "topology_event_refresh_window": 0,
        "schema_event_refresh_window": 0,
    }
    if local_dc is not None:
        policy = TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc))
        settings["execution_profiles"] = {
            EXEC_PROFILE_DEFAULT: ExecutionProfile(load_balancing_policy=policy)
        }
    settings.update(kwargs)
    return Cluster(**settings)


def create_keyspace(session, keyspace: str, *tables: str) -> None:
    """``keyspace`` with the demo's replication (three replicas in each DC) and in it each of
    ``tables``, given as "name (columns, PRIMARY KEY ...)"; all IF NOT EXISTS."""
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {DEMO_REPLICATION}"
    )
    for table in tables:
        session.execute(f"CREATE TABLE IF NOT EXISTS {keyspace}.{table}")


@contextlib.contextmanager
def keyspace_session(
    handle: SimHandle, keyspace: str, *tables: str, local_dc: str = "DC1", **kwargs
) -> Iterator:
    """A session on ``driver_cluster(handle, local_dc, **kwargs)`` using ``keyspace``, made
    first by ``create_keyspace(session, keyspace, *tables)``; the cluster shut down on exit."""
    cluster = driver_cluster(handle, local_dc, **kwargs)
    session = cluster.connect()
    create_keyspace(session, keyspace, *tables)
    session.set_keyspace(keyspace)
    try:
        yield session
    finally:
        cluster.shutdown()


def pinned_session(handle: SimHandle, node_name: str, keyspace: str | None = None):
    """(cluster, session) whose every request ``node_name`` coordinates, with no retries.

    The driver knows only that node's address (white-list load balancing, the only contact
    point), so an outcome is the coordinator's own decision; requests time out after 15 s.
    """
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, ExecutionProfile
    from cassandra.policies import FallthroughRetryPolicy, WhiteListRoundRobinPolicy

    address = str(handle.inventory.node(node_name).sim_address)
    profile = ExecutionProfile(
        load_balancing_policy=WhiteListRoundRobinPolicy([address]),
        retry_policy=FallthroughRetryPolicy(),
        request_timeout=15,
    )
    cluster = driver_cluster(
        handle, contact_points=[address], execution_profiles={EXEC_PROFILE_DEFAULT: profile}
    )
    return cluster, cluster.connect(keyspace)
