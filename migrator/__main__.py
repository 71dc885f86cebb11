"""`python -m migrator` and the `migrator` script: Ctrl-C handling first, then the (slow) CLI import."""

from __future__ import annotations

import sys

from migrator import interrupts


def main() -> None:
    interrupts.install()  # before the imports below: they take a second or two
    try:
        from migrator.cli.main import run
    except KeyboardInterrupt:
        sys.stderr.write(f"error: {interrupts.message()}\n")
        interrupts.exit_process(4)  # ExitCode.INTERRUPTED
    run()


if __name__ == "__main__":
    main()
