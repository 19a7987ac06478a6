"""The HMM source's exact next-token distributions and KL (klviz.lm.hmm) against brute-force
enumeration, and the RLHF sequence estimators (klviz.lm.rlhf) against exact expectations."""

from __future__ import annotations

import itertools

import pytest
import torch

from klviz.lm import TinyLM
from klviz.lm.hmm import HMM
from klviz.lm.rlhf import SEQUENCE_ESTIMATORS, estimator_rows, sequence_kl_samples


def _joint(h: HMM, seq) -> float:
    """P(x_0..x_n) by summing over every hidden path."""
    K = h.trans.shape[0]
    total = 0.0
    for path in itertools.product(range(K), repeat=len(seq)):
        p = h.init[path[0]] * h.emit[path[0], seq[0]]
        for a, b, x in zip(path, path[1:], seq[1:]):
            p = p * h.trans[a, b] * h.emit[b, x]
        total += float(p)
    return total


def test_next_token_probs_equal_brute_force():
    h = HMM.random(3, 4, seed=1)
    V = 4
    for seq in [(0, 1, 2), (3, 3, 0), (2, 0, 1)]:
        lp = h.next_token_log_probs(torch.tensor([seq]))
        for n in range(len(seq)):
            prefix = seq[: n + 1]
            joint = torch.tensor([_joint(h, prefix + (v,)) for v in range(V)], dtype=torch.float64)
            torch.testing.assert_close(lp[0, n].exp(), joint / joint.sum(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(h.first_token_log_probs().exp(),
                               torch.tensor([_joint(h, (v,)) for v in range(V)], dtype=torch.float64))


def test_exact_kl_sums_to_the_sequence_kl():
    # chain rule: sum_x P(x) sum_n KL(P(.|x<=n) || Q(.|x<=n)) = KL(P(x_1..x_L | x_0) || Q(...)), by enumeration
    h = HMM.random(2, 3, seed=3)
    torch.manual_seed(0)
    table = torch.randn(3, 3, dtype=torch.float64)  # a bigram "model": logits of x_{n+1} given x_n
    L = 4
    seqs = torch.tensor(list(itertools.product(range(3), repeat=L)))
    px = torch.tensor([_joint(h, tuple(s.tolist())) for s in seqs], dtype=torch.float64)
    model_logits = table[seqs[:, :-1]]
    per_pos = h.exact_kl(seqs[:, :-1], model_logits)  # positions 0..L-2 predict x_1..x_{L-1}
    lp = h.next_token_log_probs(seqs[:, :-1]).gather(-1, seqs[:, 1:, None]).squeeze(-1).sum(-1)
    lq = model_logits.log_softmax(-1).gather(-1, seqs[:, 1:, None]).squeeze(-1).sum(-1)
    brute = float((px * (lp - lq)).sum())
    # the chain-rule sum along each sequence, averaged under P: it depends only on x_0..x_{L-2}
    assert float((px * per_pos.sum(-1)).sum()) == pytest.approx(brute, rel=1e-10)
    samples = h.sample(5, 6, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (5, 6) and int(samples.max()) < 3
    with pytest.raises(ValueError, match="shape"):
        h.exact_kl(seqs[:, :-1], model_logits[:, :2])


def test_sequence_estimators_against_enumeration():
    torch.manual_seed(0)
    pol = TinyLM(3, d_model=8, layers=1, heads=2, context=6).eval()
    ref = TinyLM(3, d_model=8, layers=1, heads=2, context=6).eval()
    prompt = torch.zeros(1, 2, dtype=torch.long)
    G = 3
    # exact sequence KL by enumerating the 27 continuations
    conts = torch.tensor(list(itertools.product(range(3), repeat=G)))
    ids = torch.cat([prompt.expand(len(conts), -1), conts], 1)
    with torch.no_grad():
        lp = pol(ids[:, :-1]).double().log_softmax(-1)[:, 1:].gather(-1, conts[..., None]).squeeze(-1).sum(-1)
        lq = ref(ids[:, :-1]).double().log_softmax(-1)[:, 1:].gather(-1, conts[..., None]).squeeze(-1).sum(-1)
    true_kl = float((lp.exp() * (lp - lq)).sum())
    out = sequence_kl_samples(pol, ref, prompt.expand(4000, -1), G, generator=torch.Generator().manual_seed(1))
    rows = {r["estimator"]: r for r in estimator_rows(out)}
    assert set(rows) == set(SEQUENCE_ESTIMATORS)
    se = float(out["exact"].std()) / 4000 ** 0.5
    assert abs(float(out["exact"].mean()) - true_kl) < 4 * se + 1e-12
    for k in ("k1", "k3", "k3 per token"):  # unbiased
        assert abs(rows[k]["bias"]) < 4 * rows[k]["bias_se"] + 1e-12
    assert rows["k1"]["frac_negative"] > 0 and rows["k3"]["frac_negative"] == 0
    # identical models: every estimator and the exact sum are 0
    same = sequence_kl_samples(pol, pol, prompt, G, generator=torch.Generator().manual_seed(1))
    assert all(float(same[k].abs().max()) < 1e-12 for k in ("exact", *SEQUENCE_ESTIMATORS))
