"""How corpus text becomes tokens. The text is first split on whitespace (in bounded pieces,
fileio.read_token_pieces); a Tokenizer then maps each piece's whitespace tokens to the tokens
the vocabulary counts and the corpus encodes, the same way in both passes.

- "whitespace" (the default, for corpora that are already tokenised): the whitespace tokens.
- "words": punctuation split off the words, as most tokenisers do for English: `Australia,` and
  `said.` become `Australia` `,` and `said` `.`; a word keeps its inner hyphens and apostrophes
  (`well-known`, `don't`) and a number its inner point or comma (`3.5`, `1,000`).
lowercase=True lower-cases the text first, so that `The` and `the` are one word."""
import re

TOKENIZE_MODES = ("whitespace", "words")
# A word: letters, digits or underscores, joined by single inner hyphens, apostrophes, points or
# commas (so that 3.5 and 1,000 stay whole); or any one other non-space character.
_WORD = re.compile(r"\w+(?:[-'\u2019.,]\w+)*|[^\w\s]")


class Tokenizer:
    def __init__(self, mode="whitespace", lowercase=False):
        if mode not in TOKENIZE_MODES:
            raise ValueError(f"tokenize must be one of {', '.join(TOKENIZE_MODES)}, got {mode!r}")
        if not isinstance(lowercase, bool):
            raise ValueError(f"lowercase must be True or False, got {lowercase!r}")
        self.mode, self.lowercase = mode, lowercase

    @property
    def is_identity(self) -> bool:
        return self.mode == "whitespace" and not self.lowercase

    def __call__(self, tokens: list) -> list:
        if self.lowercase:
            tokens = [t.lower() for t in tokens]
        if self.mode == "words":
            tokens = [piece for t in tokens for piece in _WORD.findall(t)]
        return tokens

    def __repr__(self) -> str:
        return f"Tokenizer({self.mode!r}, lowercase={self.lowercase})"
