"""A real `dagster dev` (webserver, daemon, code server) on a small demo deployment, for the tests that use
Dagster as its users do: backfills launched through the webserver and run by the daemon, sensors ticking,
the UI in a browser.

Each deployment is a temporary folder with its own data, warehouse and Dagster instance; the server
answers GraphQL as the UI does, and stops on SIGINT as `make ui` does on Ctrl-C.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sources.config import REPO_ROOT

DEMO_CONFIG = REPO_ROOT / "sources" / "demo" / "clientele.yml"
DAGSTER = Path(sys.executable).with_name("dagster")
FINISHED_RUN = {"SUCCESS", "FAILURE", "CANCELED"}
FINISHED_BACKFILL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


@dataclass(frozen=True)
class Deployment:
    """A small demo deployment: where its data and Dagster instance live, and its environment."""

    root: Path
    env: dict[str, str]

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def serving_path(self) -> Path:
        return self.data_dir / "serving" / "warehouse.duckdb"


def demo_deployment(root: Path, customers: int, start: str, end: str, **settings: str) -> Deployment:
    """Demo exports for [start, end) under `root/data` and a Dagster home beside them; `settings` are
    environment overrides of the demo configuration (CLIENTELE_..., CLIENTELE__...)."""
    home = root / "dagster"
    home.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLIENTELE")},
        "CLIENTELE_CONFIG": str(DEMO_CONFIG),
        "CLIENTELE_DATA_DIR": str(root / "data"),
        "DAGSTER_HOME": str(home),
        **settings,
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sources.demo",
            "--customers",
            str(customers),
            "--seed",
            "11",
            "--out",
            str(root / "data"),
            "--start",
            start,
            "--end",
            end,
        ],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    return Deployment(root=root, env=env)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class DagsterDev:
    """A running `dagster dev` of one deployment."""

    deployment: Deployment
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        assert "errors" not in answer, answer["errors"]
        return answer["data"]

    def wait(self, done: Any, what: str, timeout: float = 600, every: float = 2) -> Any:
        """Poll `done()` until it returns something truthy; fail naming `what` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = done()
            if result:
                return result
            assert self.process.poll() is None, f"dagster dev exited; see {self.log_path}"
            time.sleep(every)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; see {self.log_path}")

    def stop(self, timeout: float = 60) -> float:
        """Ctrl-C as a terminal sends it (SIGINT to the process group); seconds until every process exits."""
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise AssertionError(f"dagster dev did not stop within {timeout}s of Ctrl-C") from None
        while time.monotonic() - started < timeout and _group_alive(self.process.pid):
            time.sleep(0.5)
        assert not _group_alive(self.process.pid), "a process of dagster dev outlived Ctrl-C"
        return time.monotonic() - started


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _restore_signals() -> None:
    # a test runner may start children with SIGINT ignored; a terminal's Ctrl-C must reach dagster dev
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)


@contextmanager
def dagster_dev(deployment: Deployment) -> Iterator[DagsterDev]:
    """`dagster dev` for `deployment`, as `make ui` starts it, until the block ends (then Ctrl-C)."""
    port = free_port()
    log_path = deployment.root / "dagster_dev.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(DAGSTER), "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
            env=deployment.env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_restore_signals,
        )
    server = DagsterDev(deployment, f"http://127.0.0.1:{port}", process, log_path)
    try:
        server.wait(lambda: _answers(server.url), "the webserver to answer", timeout=180, every=1)
        server.wait(_code_location_loaded(server), "the code location to load", timeout=180, every=1)
        yield server
    finally:
        if process.poll() is None:
            server.stop()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=5):
            return True
    except OSError:
        return False


def _code_location_loaded(server: DagsterDev) -> Any:
    def loaded() -> bool:
        data = server.graphql(
            "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus "
            "locationOrLoadError { __typename } } } } }"
        )
        entries = data["workspaceOrError"]["locationEntries"]
        return bool(entries) and all(
            e["loadStatus"] == "LOADED" and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
            for e in entries
        )

    return loaded
