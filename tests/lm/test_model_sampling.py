"""The causal transformer (klviz.lm.model) and sampling (klviz.lm.sampling)."""

from __future__ import annotations

import pytest
import torch

from klviz.lm import TinyLM, filter_logits, sample


@pytest.fixture
def lm():
    torch.manual_seed(0)
    return TinyLM(11, d_model=16, layers=2, heads=2, context=12).eval()


def test_changing_a_future_token_never_changes_earlier_logits(lm):
    ids = torch.randint(0, 11, (3, 12))
    base = lm(ids)
    assert base.shape == (3, 12, 11)
    for j in range(12):
        other = ids.clone()
        other[:, j] = (other[:, j] + 1) % 11
        z = lm(other)
        torch.testing.assert_close(z[:, :j], base[:, :j], rtol=0, atol=0)
        assert not torch.allclose(z[:, j], base[:, j])  # the changed position itself does change


def test_bad_input_is_one_line(lm):
    with pytest.raises(ValueError, match="context"):
        lm(torch.zeros(1, 13, dtype=torch.long))
    with pytest.raises(ValueError, match="context"):
        TinyLM(11, context=1)
    with pytest.raises(ValueError, match="heads"):
        TinyLM(11, d_model=10, heads=4)


def test_sampling_is_reproducible_under_a_seed(lm):
    prompt = torch.randint(0, 11, (4, 3))
    a = sample(lm, prompt, 20, temperature=0.8, generator=torch.Generator().manual_seed(5))
    b = sample(lm, prompt, 20, temperature=0.8, generator=torch.Generator().manual_seed(5))
    c = sample(lm, prompt, 20, temperature=0.8, generator=torch.Generator().manual_seed(6))
    assert a.shape == (4, 23) and torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(a[:, :3], prompt)


def test_sampling_respects_top_k(lm):
    prompt = torch.randint(0, 11, (64, 2))
    out = sample(lm, prompt, 6, top_k=2, temperature=3.0, generator=torch.Generator().manual_seed(1))
    for n in range(2, 8):
        z = lm(out[:, :n])[:, -1]
        top2 = z.topk(2, -1).indices
        assert bool((top2 == out[:, n:n + 1]).any(-1).all())
    # top_k = 1 is greedy decoding
    greedy = sample(lm, prompt, 4, top_k=1, generator=torch.Generator().manual_seed(2))
    assert torch.equal(greedy[:, 2], lm(prompt)[:, -1].argmax(-1))


def test_filter_logits():
    z = torch.tensor([[1.0, 3.0, 2.0, 0.0]])
    f = filter_logits(z, temperature=2.0, top_k=2)
    assert torch.equal(torch.isinf(f), torch.tensor([[True, False, False, True]]))
    torch.testing.assert_close(f[0, 1:3], torch.tensor([1.5, 1.0]))
    with pytest.raises(ValueError, match="top_k"):
        filter_logits(z, top_k=0)
    with pytest.raises(ValueError, match="temperature"):
        filter_logits(z, temperature=0.0)


def test_sample_bad_input(lm):
    with pytest.raises(ValueError, match="top_k"):
        sample(lm, torch.zeros(1, 2, dtype=torch.long), 3, top_k=0)
    with pytest.raises(TypeError, match="prompt"):
        sample(lm, [[1, 2]], 3)
