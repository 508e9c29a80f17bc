"""The examples run as a user runs them, and print what they promise."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name):
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@pytest.mark.slow
def test_quickstart_prints_teacher_student_and_baseline():
    output = run_example("plot_quickstart.py")
    rows = {
        label: (int(params.replace(",", "")), float(accuracy))
        for label, params, accuracy in re.findall(
            r"^(teacher|distilled student|same student).*?\s([\d,]+)\s+([\d.]+)$", output, re.M
        )
    }
    assert set(rows) == {"teacher", "distilled student", "same student"}, output
    assert rows["teacher"][1] > 0.9
    assert rows["distilled student"][0] == rows["same student"][0] < rows["teacher"][0] / 100
    assert "agrees with the teacher" in output
