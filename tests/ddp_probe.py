"""Run under torchrun (gloo): three ``shard_step``s of a small ensemble model on a fixed
batch spread over the processes; rank 0 writes the parameters to argv[1] (.npz)."""

from __future__ import annotations

import sys

import numpy as np
import torch

from livearranger.lab.trainer import leave_torchrun, shard_step, world
from tests.lab.ddp_batch import fixed_batch, small_model


def main() -> None:
    torch.distributed.init_process_group("gloo")
    torch.set_num_threads(1)
    rank, size = world()
    model = small_model()
    net = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    batch = fixed_batch()
    for _ in range(3):
        shard_step(net, opt, batch[rank::size])
    if rank == 0:
        np.savez(sys.argv[1], **{k: v.numpy() for k, v in model.state_dict().items()})
    torch.distributed.barrier()      # no process leaves while another still works
    torch.distributed.destroy_process_group()
    leave_torchrun()


if __name__ == "__main__":
    main()
