"""Corpus, tokenizer and token-level losses/metrics (klviz.lm.corpus, klviz.lm.metrics)."""

from __future__ import annotations

import hashlib
import math
import platform

import pytest
import torch
import torch.nn.functional as F

from klviz.lm import (CharTokenizer, TinyLM, bits_per_token, distinct_n, load_corpus, split_tokens,
                      token_distill_loss, windows)
from klviz.losses import get_spec


def test_corpus_is_read_at_run_time_with_its_checksum():
    c = load_corpus(5000)
    assert len(c.text) == 5000 and c.python == platform.python_version()
    assert c.sha256 == hashlib.sha256(c.text.encode()).hexdigest()
    full = load_corpus()
    assert full.text.startswith(c.text) and len(full.text) > 100_000
    with pytest.raises(ValueError, match="max_chars"):
        load_corpus(0)


def test_tokenizer_round_trip_and_errors():
    tok = CharTokenizer("hello world")
    assert tok.vocab_size == 8 and tok.decode(tok.encode("hold")) == "hold"
    assert CharTokenizer.from_state_dict(tok.state_dict()).chars == tok.chars
    with pytest.raises(ValueError, match="empty"):
        CharTokenizer("")
    with pytest.raises(ValueError, match="'z'"):
        tok.encode("zebra")


def test_split_and_windows():
    ids = torch.arange(100)
    tr, va = split_tokens(ids, 0.2)
    assert torch.equal(torch.cat([tr, va]), ids) and len(va) == 20
    w = windows(tr, 10, 5)
    assert w.shape == (15, 10) and torch.equal(w[1], torch.arange(5, 15))
    with pytest.raises(ValueError, match="length"):
        windows(tr, 1)
    with pytest.raises(ValueError, match="fewer than one window"):
        windows(tr[:5], 10)


def _kl(p_log, q_log):
    return (p_log.exp() * (p_log - q_log)).sum(-1)


@pytest.mark.parametrize("loss,hypers,ref", [
    ("kd", {}, lambda lt, ls: _kl(lt, ls)),
    ("js", {"beta": 1.0}, lambda lt, ls: _kl(ls, lt)),
    ("skl", {"skew": 0.1}, lambda lt, ls: _kl(lt, torch.logaddexp(lt + math.log(0.1), ls + math.log(0.9)))),
])
def test_token_losses_with_padding_equal_per_sequence_sums(loss, hypers, ref):
    torch.manual_seed(0)
    B, N, V = 3, 7, 5
    s, t = torch.randn(B, N, V, dtype=torch.float64), torch.randn(B, N, V, dtype=torch.float64)
    lengths = [7, 4, 1]
    mask = torch.arange(N)[None, :] < torch.tensor(lengths)[:, None]
    got_sum = token_distill_loss(s, t, loss, mask=mask, reduction="sum", **hypers)
    got_mean = token_distill_loss(s, t, loss, mask=mask, **hypers)
    # independently: each sequence alone, its real tokens only, as 2-D rows
    per_seq = [float(ref(t[b, :n].log_softmax(-1), s[b, :n].log_softmax(-1)).sum()) for b, n in enumerate(lengths)]
    assert float(got_sum) == pytest.approx(sum(per_seq), rel=1e-12)
    assert float(got_mean) == pytest.approx(sum(per_seq) / sum(lengths), rel=1e-12)
    # what sits under the padding never matters
    s2 = s.clone()
    s2[~mask] = 1e3
    assert float(token_distill_loss(s2, t, loss, mask=mask, **hypers)) == pytest.approx(float(got_mean), rel=1e-12)


def test_token_loss_bad_input():
    s = torch.randn(2, 3, 4)
    with pytest.raises(ValueError, match="unknown loss"):
        token_distill_loss(s, s, "nope")
    with pytest.raises(ValueError, match="labels"):
        token_distill_loss(s, s, "dkd")
    with pytest.raises(ValueError, match=r"\(B, N, V\)"):
        token_distill_loss(s[0], s[0], "kd")


def test_bits_per_token_and_distinct_n():
    torch.manual_seed(0)
    m = TinyLM(6, d_model=8, layers=1, heads=2, context=9).eval()
    rows = torch.randint(0, 6, (5, 10))
    z = m(rows[:, :-1])
    ref = F.cross_entropy(z.reshape(-1, 6), rows[:, 1:].reshape(-1)).item() / math.log(2)
    assert bits_per_token(m, rows, batch=2) == pytest.approx(ref, rel=1e-6)
    seqs = torch.tensor([[1, 2, 1, 2], [1, 2, 3, 3]])
    # bigrams: 12 21 12 | 12 23 33 -> 4 distinct of 6
    assert distinct_n(seqs, 2) == pytest.approx(4 / 6) and distinct_n(seqs, 1) == pytest.approx(3 / 8)
    with pytest.raises(ValueError, match="shorter"):
        distinct_n(seqs, 5)
