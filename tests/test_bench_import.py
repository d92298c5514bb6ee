"""The import bench (bench/import_speed.py, `make bench-import`) runs and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "import_speed.py"


def test_the_import_bench_imports_twice_and_prints_the_table(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--posts", "30", "--data", str(tmp_path), "--no-save",
         "--no-postgres"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "| Engine | First import s | CPU s | Posts/s | Re-import s | CPU s |" in out
    row = next(line for line in out.splitlines() if line.startswith("| SQLite |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert float(cells[1]) > 0 and float(cells[4]) > 0
    assert cells[6] == "yes"  # the second run changed nothing
    assert "- SQLite: re-import changes nothing: met" in out
    # The import showed its progress, and the export is kept for the next run.
    assert "Importing: 31/31 (100%)" in out
    assert (tmp_path / "magazine-30.wxr").exists()
    assert not (tmp_path / "import-30.sqlite").exists()
