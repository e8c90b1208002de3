"""Scale-out: the ensemble trainer under torchrun with two gloo processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from livearranger.lab.trainer import shard_step
from tests.lab.ddp_batch import fixed_batch, small_model

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-5     # float32 summation order differs between one and two processes


def torchrun(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc-per-node", "2", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _failure(r: subprocess.CompletedProcess) -> str:
    """What a failed torchrun said: each process's own errors first, then the end."""
    own = [line for line in r.stderr.splitlines()
           if "Error" in line or "terminate" in line or "Traceback" in line][:20]
    return "\n".join(own) + "\n...\n" + r.stderr[-1500:]


def test_two_gloo_processes_take_the_same_steps_as_one(tmp_path):
    out = tmp_path / "ddp.npz"
    r = torchrun(str(ROOT / "tests" / "ddp_probe.py"), str(out))
    assert r.returncode == 0, _failure(r)
    torch.set_num_threads(1)
    model = small_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)   # Adam would magnify float noise
    batch = fixed_batch()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    for _ in range(3):
        shard_step(model, opt, batch)
    with np.load(out) as got:
        moved = 0.0
        for k, v in model.state_dict().items():
            assert np.abs(got[k] - v.numpy()).max() < TOLERANCE, k
            moved = max(moved, float((v - start[k]).abs().max()))
    assert moved > 1e-3          # the steps did change the weights


def test_the_trainer_runs_under_torchrun_and_rank_0_writes_the_model(tmp_path):
    out = tmp_path / "ens"
    r = torchrun("-m", "livearranger.lab.ensemble_train", "--datasets", "bach",
                 "--train-limit", "2", "--valid-limit", "1", "--minutes", "0.15",
                 "--out", str(out))
    assert r.returncode == 0, _failure(r)
    assert "process 0 of 2" in r.stdout and "process 1 of 2" in r.stdout
    assert out.with_suffix(".npz").stat().st_size > 0
    assert out.with_suffix(".onnx").stat().st_size > 0
    assert not out.with_suffix(".state.pt").exists()
