"""`python -m migrator.simulator build|serve|demo`: the simulator harness from the shell."""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import ssl
import subprocess
import sys
import time
from pathlib import Path

from migrator.settings import Settings
from migrator.simulator.build import SimulatorUnavailable, binary_path
from migrator.simulator.demo_targets import land_every_target
from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator
from migrator.simulator.learning_demo import learning_demo
from migrator.simulator.seed import seed

PASSWORD_ENV = "MIGRATOR_DEMO_VC_PASSWORD"


DEMO_SERVE_ENV = "MIGRATOR_DEMO_SERVE"
LLM_ENV = "MIGRATOR_LLM"
# the demo's schedule (docs/schedule.md): before `plan`, so each wave's PLAN.md shows its dates
DEMO_SCHEDULE = (
    "schedule",
    "--start",
    "2027-01-11",
    "--window",
    "Sat 22:00-06:00",
    "--blackout",
    "2027-02-01..2027-02-07",
    "--bandwidth",
    "1Gbps",
)
REFINE_REQUEST = "use gp3 volumes with 3000 IOPS for every data disk"
REFINE_OUTCOME = {
    0: "the refinement passed every validator and landed on wave 1's pull request",
    8: "the model gave no valid refinement: nothing was written (see `migrator conversations show`)",
    11: "the model endpoint failed or refused the request: nothing was written (docs/agents.md)",
}


def _start(estate_file: Path) -> tuple[Simulator, Estate]:
    estate = Estate.load(estate_file)
    password = os.environ.get(PASSWORD_ENV) or Simulator.password  # a local lab simulator's login
    sim = Simulator(topology=estate.topology(), password=password).start()
    seed(sim, estate)
    return sim, estate


def _migrator(*args: str, env: dict[str, str] | None = None, accept: tuple[int, ...] = (0,)) -> int:
    cmd = [sys.executable, "-m", "migrator", *args]
    print("$ migrator " + " ".join(shlex.quote(a) for a in args), flush=True)
    result = subprocess.run(cmd, env=env, check=False)
    if result.returncode not in accept:
        raise SystemExit(result.returncode)
    return result.returncode


def _with_model() -> bool:
    """MIGRATOR_LLM set: the demo also interprets every VM and refines one wave (docs/agents.md)."""
    return bool(os.environ.get(LLM_ENV, "").strip())


def _refine_demo() -> None:
    """One refinement of wave 1. Without a valid answer nothing lands (exit 8); an endpoint that
    refuses the request, e.g. a local server whose context window is smaller than the wave's code,
    is exit 11. Either way the demo says so and goes on: the refinement is optional."""
    args = ("plan", "refine", "--wave", "1", "--target", "terraform-aws", REFINE_REQUEST)
    code = _migrator(*args, accept=(0, 8, 11))
    print(REFINE_OUTCOME[code], flush=True)
    _migrator("conversations", "list")
    _migrator("llm", "usage")


def _vddk_flags(sim: Simulator) -> list[str]:
    """The simulator's SDK URL and certificate thumbprint, as a real vCenter's would be given."""
    flags = ["--vddk-url", sim.url]
    if sim.cert_file:
        der = ssl.PEM_cert_to_DER_cert(Path(sim.cert_file).read_text(encoding="ascii"))
        digest = hashlib.sha1(der).hexdigest().upper()  # VDDK pins vCenter by its SHA-1 thumbprint
        flags += ["--vddk-thumbprint", ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))]
    return flags


def demo(estate_file: Path, flows_file: Path) -> None:
    started = time.monotonic()
    sim, estate = _start(estate_file)
    try:
        print(
            f"vcsim serving the '{estate.raw['name']}' estate ({len(estate.vms)} VMs) at {sim.url}",
            flush=True,
        )
        env = dict(os.environ, **{PASSWORD_ENV: sim.password})
        _migrator(*sim.discover_args(PASSWORD_ENV, "--perf-days", "1"), env=env)
        _migrator("inventory", "list")
        if flows_file.exists():
            _migrator("import", "flows", str(flows_file), "--replace")
            if _with_model():
                _migrator("interpret", "--all")
            _migrator("waves", "plan")
            _migrator("waves", "explain", "crm-app-01")
            _migrator(*DEMO_SCHEDULE)
            # every registered target, each wave its own pull request
            land_every_target(_migrator, Path("migration"), {"kubevirt": _vddk_flags(sim)})
            if _with_model():
                _refine_demo()
            # reviewers' merged edits teach the next wave (docs/learning.md)
            learning_demo(Settings.resolve().workspace, Path("migration"), _migrator)
            _migrator("pr", "list")
    finally:
        sim.stop()
    print(
        f"demo finished in {time.monotonic() - started:.1f} s; the snapshot stays in ./.migrator", flush=True
    )
    if flows_file.exists() and os.environ.get(DEMO_SERVE_ENV, "1") != "0":
        _dashboard()


def _dashboard() -> None:
    """End the demo on the dashboard, served until Ctrl-C (MIGRATOR_DEMO_SERVE=0 skips it)."""
    port = os.environ.get("MIGRATOR_DEMO_PORT", "8000")
    print(f"$ migrator serve --port {port}   ({DEMO_SERVE_ENV}=0 skips this)", flush=True)
    child = subprocess.Popen([sys.executable, "-m", "migrator", "serve", "--port", port])
    try:
        child.wait()
    except KeyboardInterrupt:  # the child got the same Ctrl-C and stops cleanly
        child.wait()


def serve(estate_file: Path) -> None:
    sim, _estate = _start(estate_file)
    print(f"{sim.url}  user: {sim.username}  password: ${PASSWORD_ENV} if set, else the documented default")
    print("Ctrl-C to stop", flush=True)
    try:
        while sim.process and sim.process.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m migrator.simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build the vcsim launcher from Debian's govmomi")
    for name in ("serve", "demo"):
        p = sub.add_parser(name)
        p.add_argument("--estate", type=Path, default=Path("fixtures/estates/demo.yaml"))
    sub.choices["demo"].add_argument("--flows", type=Path, default=Path("fixtures/flows/demo-flows.csv"))
    args = parser.parse_args()
    try:
        if args.command == "build":
            print(binary_path())
        elif args.command == "serve":
            serve(args.estate)
        else:
            demo(args.estate, args.flows)
    except SimulatorUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(3) from None


if __name__ == "__main__":
    main()
