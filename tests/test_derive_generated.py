"""Generated evaluators are up to date and regenerate byte-identically."""

import subprocess
import sys

from derivations.generate import stale_files


def test_committed_generated_files_are_up_to_date():
    assert stale_files() == []


def test_derive_check_cli_exits_zero_when_up_to_date():
    r = subprocess.run([sys.executable, "-m", "ganspin.cli", "derive", "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
