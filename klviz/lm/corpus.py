r"""Text that needs no download: the Python standard library's ``pydoc_data`` topics, read at
run time (never copied into the repository), and a character tokenizer built from it.

The text is every value of ``pydoc_data.topics.topics`` joined in the order of the sorted keys.
Its length and SHA-256 depend on the Python version (464,970 characters on Python 3.11), so
:class:`Corpus` records both and the chapter ``ch-lm`` prints them next to the book's.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from klviz import _checks

__all__ = ["BOOK_CORPUS", "CharTokenizer", "Corpus", "load_corpus", "split_tokens"]

#: the corpus of the book's own build (Python 3.11.7): characters and SHA-256 of the text
BOOK_CORPUS = {"python": "3.11.7", "chars": 464_970,
               "sha256": "37d06970fc926e60"}  # the first 16 hex digits


@dataclass(frozen=True)
class Corpus:
    """A text and where it came from."""

    text: str
    source: str
    python: str

    @property
    def sha256(self) -> str:
        """SHA-256 of the UTF-8 text (hex)."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def same_as_book(self) -> bool:
        """Whether this text is the one the book was built with (:data:`BOOK_CORPUS`)."""
        return len(self.text) == BOOK_CORPUS["chars"] and self.sha256.startswith(BOOK_CORPUS["sha256"])


def load_corpus(max_chars: int | None = None) -> Corpus:
    """The ``pydoc_data`` topics of this Python, optionally cut to the first ``max_chars``.

    Chapter ``ch-lm``.
    """
    if max_chars is not None:
        max_chars = _checks.positive_int(max_chars, "max_chars", hint="e.g. 100_000, or None for all")
    try:
        from pydoc_data.topics import topics
    except ImportError:  # some distributions strip it
        raise ValueError("this Python has no pydoc_data.topics; use a full CPython install "
                         "(or pass your own text to Corpus(text=..., source=..., python=...))") from None
    text = "".join(topics[k] for k in sorted(topics))
    return Corpus(text[:max_chars] if max_chars else text, "pydoc_data.topics", platform.python_version())


class CharTokenizer:
    """Characters to integer ids and back; the vocabulary is the sorted set of the text's
    characters. Chapter ``ch-lm``."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if not text:
            raise ValueError("text is empty: build the tokenizer from a non-empty corpus "
                             "(load_corpus() reads the pydoc_data topics)")
        self.chars: tuple[str, ...] = tuple(sorted(set(text)))
        self.index = {c: i for i, c in enumerate(self.chars)}

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str, *, drop_unknown: bool = False) -> torch.Tensor:
        """The ids of ``text`` (int64); a character outside the vocabulary raises ValueError,
        or is left out with ``drop_unknown=True`` (a corpus of another Python version read
        with the book's tokenizer)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if drop_unknown:
            return torch.tensor([self.index[c] for c in text if c in self.index], dtype=torch.long)
        try:
            return torch.tensor([self.index[c] for c in text], dtype=torch.long)
        except KeyError as exc:
            raise ValueError(f"character {exc.args[0]!r} is not in the vocabulary; "
                             "build the tokenizer from a text that contains it") from None

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """The text of ``ids``."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return "".join(self.chars[i] for i in ids)

    def state_dict(self) -> dict:
        return {"chars": list(self.chars)}

    @classmethod
    def from_state_dict(cls, state: dict) -> "CharTokenizer":
        return cls("".join(state["chars"]))


def split_tokens(ids: torch.Tensor, val_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``1 − val_fraction`` of ``ids`` for training, the rest for validation
    (a contiguous tail, so no validation text is seen in training). Chapter ``ch-lm``."""
    f = _checks.fraction(val_fraction, "val_fraction", open_low=True, open_high=True, hint="e.g. 0.1")
    cut = int(round(len(ids) * (1.0 - f)))
    return ids[:cut], ids[cut:]
