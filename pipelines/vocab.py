"""Character vocabulary: stable ids, an explicit unknown id, JSON round trip.

Ids are assigned as: special tokens first (in the order given), then every
distinct character of the text in sorted (code point) order. The same text
therefore always gives the same vocabulary.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from pipelines.io import atomic_write_text
from pipelines.schema import Fields, read_json_object

MAX_TOKENS = 2**21  # more tokens than Unicode has code points: not a character vocabulary
UNK = "<unk>"  # stands for any character the training text never contained
PAD = "<pad>"  # fills padded batches (surname tasks); id 0 when present
BOS = "<s>"  # start of a sequence (generation tasks)
EOS = "</s>"  # end of a sequence (generation tasks)


@dataclass
class Vocabulary:
    """Maps characters to integer ids and back.

    Attributes:
        tokens: the token of each id, in id order (special tokens first).
        specials: the special tokens among `tokens` (never produced by `encode`
            except the unknown token).
    """

    tokens: list[str]
    specials: list[str] = field(default_factory=lambda: [UNK])

    def __post_init__(self) -> None:
        if UNK not in self.tokens:
            raise ValueError("a vocabulary needs an unknown token")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("vocabulary tokens must be distinct")
        self._index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, text: str | Iterable[str], specials: Sequence[str] = (UNK,)) -> "Vocabulary":
        """Builds the vocabulary of `text` (a string, or an iterable of strings)."""
        chars: set[str] = set()
        if isinstance(text, str):
            chars.update(text)
        else:
            for piece in text:
                chars.update(piece)
        specials = list(specials)
        return cls(tokens=specials + sorted(chars - set(specials)), specials=specials)

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def unk_id(self) -> int:
        return self._index[UNK]

    @property
    def pad_id(self) -> int | None:
        return self._index.get(PAD)

    def id_of(self, token: str) -> int:
        """The id of one token (a character or a special token)."""
        return self._index.get(token, self.unk_id)

    def unknown_chars(self, text: str) -> list[str]:
        """The distinct characters of `text` that are not in the vocabulary, sorted."""
        return sorted({c for c in text if c not in self._index or c in self.specials})

    def encode(self, text: str, warn: bool = False) -> np.ndarray:
        """Maps each character of `text` to its id (unknown characters to `unk_id`).

        Args:
            text: the string to encode.
            warn: print one warning line on stderr listing unknown characters.
        Returns:
            int32 array of shape (len(text),).
        """
        unk = self.unk_id
        special = set(self.specials)
        ids = np.fromiter(
            (unk if c in special else self._index.get(c, unk) for c in text),
            dtype=np.int32,
            count=len(text),
        )
        if warn:
            missing = self.unknown_chars(text)
            if missing:
                shown = "".join(missing[:20])
                print(
                    f"warning: {len(missing)} character(s) not in the vocabulary mapped to "
                    f"{UNK}: {shown!r}",
                    file=sys.stderr,
                )
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Maps ids back to text; special tokens are dropped, except unknown as '?'."""
        out = []
        for i in ids:
            tok = self.tokens[int(i)]
            if tok == UNK:
                out.append("?")
            elif tok not in self.specials:
                out.append(tok)
        return "".join(out)

    def to_json(self) -> str:
        return json.dumps(
            {"tokens": self.tokens, "specials": self.specials, "unk_id": self.unk_id,
             "pad_id": self.pad_id},
            ensure_ascii=False,
            indent=1,
        )

    def save(self, path: str) -> None:
        """Writes the vocabulary as JSON, atomically."""
        atomic_write_text(path, self.to_json())

    @classmethod
    def from_dict(cls, data, source: str = "vocab.json") -> "Vocabulary":
        """A vocabulary from its JSON form (`to_json`), checked: distinct tokens, each one character or a
        special token, the specials among the tokens, <unk> among them, `unk_id` and `pad_id` where they are.

        Raises:
            DataError: one line naming `source` and the field.
        """
        fields = Fields(data, source)
        tokens = fields.get("tokens", "str_list", lo=1, hi=MAX_TOKENS)
        specials = fields.get("specials", "str_list", [UNK])
        for name, what in (("tokens", tokens), ("specials", specials)):
            repeated = [t for t, n in Counter(what).items() if n > 1]
            if repeated:
                raise fields.error(name, f"lists {repeated[0]!r} twice")
        if UNK not in specials:
            raise fields.error("specials", f"must include {UNK!r}")
        stray = [t for t in specials if t not in tokens]
        if stray:
            raise fields.error("specials", f"lists {stray[0]!r}, which is not among the tokens")
        long = [t for t in tokens if len(t) != 1 and t not in specials]
        if long:
            raise fields.error("tokens", f"lists {long[0]!r}, neither one character nor a special token")
        for name, token in (("unk_id", UNK), ("pad_id", PAD)):
            at = fields.index(name, len(tokens), None, nullable=True)
            where = tokens.index(token) if token in tokens else None
            if name in data and at != where:
                raise fields.error(name, f"is {at}, but {token!r} is token {where}")
        return cls(tokens=list(tokens), specials=list(specials))

    @classmethod
    def load(cls, path: str) -> "Vocabulary":
        """Reads and checks a vocab.json (see `from_dict`).

        Raises:
            DataError: an unreadable file or a bad field, in one line.
        """
        return cls.from_dict(read_json_object(path), path)
