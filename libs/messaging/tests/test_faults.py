"""Fault points: inert unless armed, refuse a misspelt drill, and kill the process on the n-th hit."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from taquilla_messaging.faults import Faults

HITS_THEN_COUNT = r'''
from taquilla_messaging.faults import fault_point
for hit in range(1, 6):
    print(hit, flush=True)
    fault_point("consumer.after_commit_before_ack")
'''


def run_points(spec: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TAQUILLA_FAULTS"}
    if spec is not None:
        env["TAQUILLA_FAULTS"] = spec
    return subprocess.run([sys.executable, "-c", HITS_THEN_COUNT], capture_output=True, text=True, timeout=60,
                          env=env)


def test_an_armed_point_kills_the_process_on_its_nth_hit():
    killed = run_points("outbox.after_claim_before_publish:kill, consumer.after_commit_before_ack:kill@3")
    assert killed.returncode == -signal.SIGKILL
    assert killed.stdout.split() == ["1", "2", "3"]


def test_without_faults_every_point_does_nothing():
    untouched = run_points(None)
    assert untouched.returncode == 0, untouched.stderr
    assert untouched.stdout.split() == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize("spec", ["outbox.after_comit:kill", "consumer.after_commit_before_ack:pause",
                                  "consumer.after_commit_before_ack:kill@0", "consumer.after_commit_before_ack"])
def test_a_misspelt_fault_is_refused(spec):
    with pytest.raises(ValueError, match="TAQUILLA_FAULTS"):
        Faults.parse(spec)
