"""Where the system has no flock (Windows), a folder is locked through filelock: a second
command on the same folder is refused while the first holds it, and takes it once the first
has ended, however it ended. Run here with ``fcntl`` hidden from iopsim."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# filelock takes the system's own locking as it is imported (on Windows, msvcrt); then the
# flock our code would use is hidden, as it is on Windows
HIDE_FCNTL = "import sys, filelock; sys.modules['fcntl'] = None\n"


def _python(code: str, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-c", HIDE_FCNTL + textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


def _try_lock(folder) -> str:
    done = _python(
        f"""
        from simulation import outputs
        try:
            outputs.lock_folder({str(folder)!r})
            print("locked")
        except outputs.OutputError as exc:
            print(exc)
        """
    )
    out, _ = done.communicate(timeout=60)
    return out.strip()


def test_without_flock_a_held_folder_is_refused_and_then_taken_over(tmp_path):
    folder = tmp_path / "run"
    holder = _python(
        f"""
        import time
        from simulation import outputs
        outputs.lock_folder({str(folder)!r})
        print("locked", flush=True)
        time.sleep(60)
        """
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        refused = _try_lock(folder)
        assert "being written by another iopsim command" in refused
    finally:
        holder.kill()  # a hard kill: the system releases its lock
        holder.wait()
    assert _try_lock(folder) == "locked"
