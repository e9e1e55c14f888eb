"""RecognizerViseceMo under DDP (2 CPU processes, gloo): every rank ends with the same momentum model and queues."""
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD = 2
QUEUE_SIZE = 7
# per step, the labels of rank 0 (2 clips) and rank 1 (3 clips): 5 entries a step wrap around the 7 slots
LABELS = [([0, 1], [2, 3, 4]), ([4, 4], [1, 0, 2]), ([3, 2], [2, 0, 1])]
NAMES = ['drink water', 'wave the right hand', 'kick with the left leg', 'squat down', 'jump up']
VIDEO = dict(type='Visece_Video', res_out_channels=32, output_channels=16, in_channels=3, base_channels=4,
             num_stages=2, stage_blocks=(1, 1), out_indices=(1, ), spatial_strides=(2, 2), temporal_strides=(1, 2),
             inflate=(0, 1))
TINY_BERT = dict(type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                               intermediate_size=32))


def _worker(rank, init_file, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank, world_size=WORLD)
    try:
        from pyskl.core.parallel import wrap_model
        from pyskl.models import build_model

        torch.manual_seed(100 + rank)  # different initial weights per rank: DDP and the first step align them
        model = build_model(dict(type='RecognizerViseceMo', video_encoder=VIDEO, text_encoder=TINY_BERT,
                                 text_encoder_init=None, text_lists=NAMES, embed_dim=8, queue_size=QUEUE_SIZE,
                                 momentum=0.8, alpha=0.4))
        ddp = wrap_model(model, distributed=True, find_unused_parameters=True)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        gen = torch.Generator().manual_seed(10 + rank)  # different data on every rank
        losses = []
        for step_labels in LABELS:
            labels = torch.tensor(step_labels[rank])
            imgs = torch.rand(len(labels), 1, 3, 8, 16, 16, generator=gen)
            out = ddp.train_step(dict(imgs=imgs, label=labels), optimizer)
            optimizer.zero_grad()
            out['loss'].backward()
            optimizer.step()
            losses.append(out['loss'].item())  # this rank's loss (log_vars hold the average of the ranks)
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        torch.save(dict(state=state, losses=losses), os.path.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_queues_and_momentum_model_identical_across_ranks(tmp_path):
    mp.spawn(_worker, args=(str(tmp_path / 'init'), str(tmp_path)), nprocs=WORLD, join=True)
    results = [torch.load(tmp_path / f'rank{r}.pt') for r in range(WORLD)]
    state0, state1 = results[0]['state'], results[1]['state']
    assert set(state0) == set(state1)
    # BatchNorm running statistics are rank-local in the online model (no buffer broadcast) and copied as they are;
    # the momentum weights and the queues are global
    momentum_keys = [k for k in state0 if k.split('.')[0].endswith('_m') and 'running_' not in k
                     and 'num_batches_tracked' not in k]
    assert len(momentum_keys) > 10
    for key in momentum_keys + ['video_queue.feats', 'text_queue.feats', 'video_queue.feat_labels', 'num_updates']:
        assert torch.equal(state0[key], state1[key]), key
    # the queues hold the gathered labels of both ranks, in rank order, oldest first
    history = [label for rank0, rank1 in LABELS for label in rank0 + rank1]
    ptr = int(state0['video_queue.ptr'])
    assert ptr == len(history) % QUEUE_SIZE
    labels = state0['video_queue.feat_labels']
    ordered = torch.cat([labels[ptr:], labels[:ptr]]).tolist()
    assert ordered == history[-QUEUE_SIZE:]
    assert torch.equal(state0['text_queue.feat_labels'], labels)
    # the ranks saw different data
    assert results[0]['losses'] != results[1]['losses']
    assert int(state0['num_updates']) == len(LABELS)
