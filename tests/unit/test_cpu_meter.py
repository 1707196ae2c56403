"""The webhook benchmark's CPU accounting (``devtools.cpu_meter.CpuMeter``) reads /proc right."""

from __future__ import annotations

import subprocess
import sys
import time

from devtools.cpu_meter import CpuMeter


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_is_charged_to_the_process_that_spent_it():
    # a child process that spins 0.4 s of CPU, standing in for the SQS endpoint; this process spins 0.3 s
    child = subprocess.Popen([sys.executable, "-c", "import time\nend = time.process_time() + 0.4\n"
                              "while time.process_time() < end: pass\nprint('spun', flush=True)\ninput()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        with CpuMeter(child.pid) as meter:
            _spin(0.3)
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "spun"
        meter.add("github_senders", 0.25)
    finally:
        child.communicate("\n", timeout=10)
    report = meter.report(units=10)
    assert 28 <= report["ms_per_unit"]["this_process"] <= 45  # 0.3 s over 10 units, plus the meter's reads
    assert 30 <= report["ms_per_unit"]["sqs_endpoint"] <= 60  # the child's 0.4 s, and its start-up
    assert report["ms_per_unit"]["github_senders"] == 25.0
    assert 0 < report["cores_busy"] <= report["cores"]
