"""Run every benchmark in bench/ in turn (`make bench`), each printing ours beside its baseline."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run each bench/*.py except this one; the exit status is the number that failed."""
    failed = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name == Path(__file__).name or script.name.startswith("_"):
            continue
        print(f"== {script.name}", flush=True)
        begin = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], check=False)
        seconds = time.perf_counter() - begin
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"== {script.name}: {status} in {seconds:.1f} s\n", flush=True)
        failed += result.returncode != 0
    return failed


if __name__ == "__main__":
    sys.exit(main())
