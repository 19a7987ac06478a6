r"""Language models distilled token by token (chapter ``ch-lm``): the corpus and a character
tokenizer (:mod:`~klviz.lm.corpus`), a hidden Markov source with exact next-token
distributions (:mod:`~klviz.lm.hmm`), a small causal transformer (:mod:`~klviz.lm.model`),
sampling (:mod:`~klviz.lm.sampling`), token-level losses and metrics (:mod:`~klviz.lm.metrics`),
the RLHF KL penalty on sampled sequences (:mod:`~klviz.lm.rlhf`), the cost of the losses at
large vocabularies (:mod:`~klviz.lm.cost`) and the trainer with its ``lm-teacher`` and
``lm-student`` commands (:mod:`~klviz.lm.train`).
"""

from __future__ import annotations

from klviz.lm.corpus import BOOK_CORPUS, CharTokenizer, Corpus, load_corpus, split_tokens
from klviz.lm.metrics import (bits_per_token, distinct_n, mean_entropy_bits, nll_bits_of, token_distill_loss,
                              windows)
from klviz.lm.model import TinyLM, count_parameters
from klviz.lm.sampling import filter_logits, sample

__all__ = [
    "BOOK_CORPUS", "CharTokenizer", "Corpus", "TinyLM", "bits_per_token", "count_parameters", "distinct_n",
    "filter_logits", "load_corpus", "mean_entropy_bits", "nll_bits_of", "sample", "split_tokens",
    "token_distill_loss", "windows",
]
