import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tiny_text_models import clips

from pyskl.models import build_model
from pyskl.models.recognizers import RecognizerVisece, RecognizerViseceITM

NAMES = ['drink water', 'wave the right hand', 'kick with the left leg', 'squat down']
WIDTH = 24  # per-frame video features = the width the text encoder cross-attends to
VIDEO = dict(type='Visece_Video', res_out_channels=32, output_channels=WIDTH, in_channels=3, base_channels=4,
             num_stages=2, stage_blocks=(1, 1), out_indices=(1, ), spatial_strides=(2, 2), temporal_strides=(1, 2),
             inflate=(0, 1))
BERT_CONFIG = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                   vocab_size=30524, add_cross_attention=True, encoder_width=WIDTH)
TINY_BERT = dict(type='BertModel', config=BERT_CONFIG)


def tiny_model(**kwargs):
    cfg = dict(type='RecognizerViseceITM', video_encoder=VIDEO, text_encoder=TINY_BERT, text_encoder_init=None,
               text_lists=NAMES, embed_dim=8)
    cfg.update(kwargs)
    return build_model(cfg)


def test_forward_train_outputs_and_parse():
    model = tiny_model()
    assert isinstance(model, RecognizerViseceITM) and isinstance(model, RecognizerVisece) and model.itm_dim == 32
    assert model.itm_head.in_features == 32 and model.itm_head.out_features == 2
    out = model(clips(), torch.tensor([0, 1, 2, 1]))
    assert set(out) == {'loss_cls', 'loss_itm', 'acc_itm', 'temp'}
    assert all(isinstance(v, torch.Tensor) and v.shape == () for v in out.values())
    assert out['loss_itm'].requires_grad and out['loss_itm'].item() > 0
    assert 0 <= out['acc_itm'].item() <= 1 and not out['acc_itm'].requires_grad
    loss, log_vars = model._parse_losses(out)
    assert loss.item() == pytest.approx(log_vars['loss_cls'] + log_vars['loss_itm'], rel=1e-5)


def test_matching_pairs_are_positives_then_hard_negatives():
    """Record the pairs given to the matching head: B positives, then a negative clip per sentence and a negative
    sentence per clip, every negative of another class."""
    model = tiny_model().eval()
    imgs, labels = clips(6, seed=3), torch.tensor([0, 1, 2, 0, 1, 3])
    recorded = {}
    original = model.matching_logits

    def record(frames, input_ids, attention_mask):
        recorded.update(frames=frames.detach().clone(), ids=input_ids.clone())
        return original(frames, input_ids, attention_mask)

    model.matching_logits = record
    torch.manual_seed(0)
    with torch.no_grad():
        out = model.forward_train(imgs, labels)
        frames = model.video_frame_features(imgs)
    ids = model.text_branch.class_tokens(labels)[0]
    assert recorded['frames'].shape == (18, ) + tuple(frames.shape[1:]) and recorded['ids'].shape[0] == 18
    # which clip / which class sentence each pair holds
    clip_of = torch.cdist(recorded['frames'].flatten(1), frames.flatten(1)).argmin(dim=1)
    class_ids = model.text_branch.class_input_ids
    sentence_of = (recorded['ids'][:, None] == class_ids[None]).all(dim=2).float().argmax(dim=1)
    assert torch.allclose(recorded['frames'], frames[clip_of])
    assert torch.equal(recorded['ids'], class_ids[sentence_of])
    assert torch.equal(clip_of[:6], torch.arange(6)) and torch.equal(sentence_of[:6], labels)
    assert torch.equal(recorded['ids'][:6], ids)
    assert torch.equal(sentence_of[6:12], labels) and (labels[clip_of[6:12]] != labels).all()
    assert torch.equal(clip_of[12:], torch.arange(6)) and (sentence_of[12:] != labels).all()
    assert out['loss_itm'].item() > 0


def test_matching_uses_the_enc_token_and_cross_attention():
    model = tiny_model().eval()
    seen = {}

    def hook(module, args, kwargs, output):
        seen.update(ids=args[0].clone(), mode=kwargs.get('mode'), frames=kwargs.get('encoder_hidden_states'))

    model.text_encoder.register_forward_hook(hook, with_kwargs=True)
    frames = torch.randn(3, 4, WIDTH)
    ids, mask = model.text_branch.class_tokens(torch.tensor([0, 1, 2]))
    logits = model.matching_logits(frames, ids, mask)
    assert logits.shape == (3, 2)
    assert seen['mode'] == 'multimodal' and seen['frames'] is frames
    assert (seen['ids'][:, 0] == model.tokenizer.enc_token_id).all()
    assert torch.equal(seen['ids'][:, 1:], ids[:, 1:])
    assert (ids[:, 0] != model.tokenizer.enc_token_id).all()  # the class tokens themselves are untouched
    other = model.matching_logits(frames.flip(0), ids, mask)
    assert not torch.allclose(logits, other)  # the output depends on the frames cross-attended to


def test_gradients_reach_the_cross_attention_the_head_and_the_video():
    model = tiny_model()
    out = model(clips(), torch.tensor([0, 1, 2, 3]))
    out['loss_itm'].backward()
    cross = [p for n, p in model.text_encoder.named_parameters() if 'crossattention' in n]
    assert cross and all(p.grad is not None for p in cross)
    assert sum(p.grad.abs().sum() for p in cross) > 0
    assert model.itm_head.weight.grad.abs().sum() > 0 and model.itm_head.bias.grad.abs().sum() > 0
    assert model.video_encoder.linear.weight.grad.abs().sum() > 0
    assert model.vision_proj.weight.grad is None  # only the contrastive loss uses the projection


def test_single_label_batch_skips_matching_through_train_step():
    model = tiny_model()
    calls = []
    model.text_encoder.register_forward_hook(lambda m, a, k, o: calls.append(k.get('mode')), with_kwargs=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    outputs = model.train_step(dict(imgs=clips(4), label=torch.tensor([2, 2, 2, 2])), optimizer)
    assert 'multimodal' not in calls
    assert outputs['log_vars']['loss_itm'] == 0 and outputs['log_vars']['acc_itm'] == 0
    assert outputs['log_vars']['loss'] == pytest.approx(outputs['log_vars']['loss_cls'])
    optimizer.zero_grad()
    outputs['loss'].backward()
    optimizer.step()
    assert torch.equal(model.itm_head.weight.grad, torch.zeros_like(model.itm_head.weight))
    assert model.video_encoder.linear.weight.grad.abs().sum() > 0


def test_multi_clip_labels():
    model = tiny_model()
    out = model(clips(batch=2, num_clips=3), torch.tensor([[1], [3]]))
    assert torch.isfinite(out['loss_itm']) and out['loss_itm'].item() > 0


def test_itm_dim_and_width_checks():
    assert tiny_model(itm_dim=32).itm_dim == 32
    with pytest.raises(ValueError, match=r'itm_dim=768 but .* hidden size 32'):
        tiny_model(itm_dim=768)
    wrong_width = dict(TINY_BERT, config=dict(BERT_CONFIG, encoder_width=48))
    with pytest.raises(ValueError, match=r'cross-attends to 48-wide features .* gives 24 channels'):
        tiny_model(text_encoder=wrong_width)
    no_cross = dict(TINY_BERT, config=dict(BERT_CONFIG, add_cross_attention=False))
    with pytest.raises(ValueError, match='needs a text encoder with cross-attention'):
        tiny_model(text_encoder=no_cross)


def test_forward_test_is_the_contrastive_scoring():
    model = tiny_model().eval()
    imgs = clips(batch=3, num_clips=2)
    with torch.no_grad():
        scores = model(imgs, return_loss=False)
        expected = F.softmax(model.encode_video(imgs) @ model.text_branch.class_text_features().t(), dim=1)
    assert scores.shape == (3, 4)
    np.testing.assert_allclose(scores, expected.reshape(3, 2, -1).mean(dim=1).numpy(), rtol=1e-5, atol=1e-6)


def test_frozen_bert_trains_the_head_and_the_video_through_matching():
    model = tiny_model(frozen_bert=True)
    model.train()
    assert not model.text_encoder.training
    out = model(clips(), torch.tensor([0, 1, 2, 3]))
    out['loss_itm'].backward()
    assert all(p.grad is None for p in model.text_encoder.parameters())
    assert model.itm_head.weight.grad.abs().sum() > 0
    assert model.video_encoder.linear.weight.grad.abs().sum() > 0


def test_init_weights_and_state_dict():
    model = tiny_model()
    head = model.itm_head.weight.clone()
    model.init_weights()
    assert not torch.equal(head, model.itm_head.weight)
    state = model.state_dict()
    assert 'itm_head.weight' in state and 'itm_head.bias' in state
    assert any('crossattention' in k for k in state)


def test_training_steps_lower_both_losses():
    torch.manual_seed(4)
    no_dropout = dict(TINY_BERT, config=dict(BERT_CONFIG, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
    model = tiny_model(text_encoder=no_dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    batch = dict(imgs=clips(6, seed=1), label=torch.tensor([0, 1, 2, 3, 0, 1]))
    cls_losses, itm_losses = [], []
    for _ in range(30):
        outputs = model.train_step(batch, optimizer)
        optimizer.zero_grad()
        outputs['loss'].backward()
        optimizer.step()
        cls_losses.append(outputs['log_vars']['loss_cls'])
        itm_losses.append(outputs['log_vars']['loss_itm'])
    assert np.mean(cls_losses[-5:]) < 0.75 * np.mean(cls_losses[:3]), cls_losses
    assert np.mean(itm_losses[-5:]) < 0.75 * np.mean(itm_losses[:3]), itm_losses
