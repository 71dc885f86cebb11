"""Start and stop a vcsim process on a free loopback port."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from migrator.simulator.build import SimulatorUnavailable, binary_path


@dataclass
class Topology:
    datacenters: int = 1
    clusters: int = 1
    hosts_per_cluster: int = 3
    standalone_hosts: int = 0
    vms_per_pool: int = 2
    portgroups: int = 1
    datastores: int = 1

    def args(self) -> list[str]:
        return [
            f"-dc={self.datacenters}",
            f"-cluster={self.clusters}",
            f"-cluster-host={self.hosts_per_cluster}",
            f"-host={self.standalone_hosts}",
            f"-vm={self.vms_per_pool}",
            f"-pg={self.portgroups}",
            f"-ds={self.datastores}",
        ]


@dataclass
class Simulator:
    """A running vcsim. Credentials travel in its environment, never its argv."""

    topology: Topology = field(default_factory=Topology)
    username: str = "administrator@vsphere.local"
    password: str = "sim-password"
    tls: bool = False
    trace_file: Path | None = None
    start_timeout: float = 180.0
    instance_uuid: str | None = None  # the vCenter's about.instanceUuid (else vcsim's fixed one)
    url: str = ""
    cert_file: str | None = None
    process: subprocess.Popen[str] | None = None

    def start(self) -> Simulator:
        args = [str(binary_path()), "-listen=127.0.0.1:0", *self.topology.args()]
        if self.tls:
            args.append("-tls")
        if self.trace_file:
            args.append(f"-trace={self.trace_file}")
        if self.instance_uuid:
            args.append(f"-instance-uuid={self.instance_uuid}")
        env = dict(os.environ, VCSIM_USERNAME=self.username, VCSIM_PASSWORD=self.password)
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 1.0)
            if ready:
                line = self.process.stdout.readline()
                if line:
                    info = json.loads(line)
                    self.url, self.cert_file = info["url"], info.get("cert")
                    return self
            if self.process.poll() is not None:
                break
        err = self.process.stderr.read() if self.process.stderr and self.process.poll() is not None else ""
        self.stop()
        raise SimulatorUnavailable(f"vcsim did not start: {err.strip()[-500:]}")

    @property
    def address(self) -> tuple[str, int]:
        hostport = self.url.split("://", 1)[1].split("/", 1)[0]
        host, port = hostport.rsplit(":", 1)
        return host, int(port)

    def discover_args(self, password_env: str, *extra: str) -> list[str]:
        """`migrator discover` arguments for this simulator; the password stays in password_env."""
        return [
            "discover",
            "--server",
            self.url,
            "--user",
            self.username,
            "--password-env",
            password_env,
            *extra,
        ]

    def kill(self) -> None:
        """Die abruptly, as a crashed or unplugged vCenter would."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        for stream in (self.process.stdout, self.process.stderr) if self.process else ():
            if stream:
                stream.close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.stop()
