"""Where a corpus comes from: a UTF-8 text file (read in bounded pieces, one sentence per line),
or a Python iterable of sentences, each a list of str tokens, as gensim's `sentences` are. Both
become the same stream of (tokens, line_ends) pieces for the vocabulary and the encoder, so the
corpus is never held in memory by wordembed, whichever form it comes in."""
import hashlib
import os

from ..fileio import PIECE_CHARS, check_input_file, fingerprint, read_token_pieces


def is_path(corpus) -> bool:
    return isinstance(corpus, (str, bytes, os.PathLike))


def describe(corpus) -> str:
    """How messages name the corpus."""
    return os.fsdecode(corpus) if is_path(corpus) else f"the {type(corpus).__name__} of sentences"


def check_corpus(corpus) -> None:
    """A clear error for a corpus that is neither a file nor a re-iterable of sentences."""
    if is_path(corpus):
        check_input_file(corpus, "corpus")
        return
    try:
        iterator = iter(corpus)
    except TypeError:
        raise TypeError(f"the corpus must be a file path or an iterable of sentences (lists of str), "
                        f"got {type(corpus).__name__}") from None
    if iterator is corpus:
        raise TypeError("the sentences must be re-iterable: training reads them more than once (to count "
                        "words, then to encode them), and a generator or iterator can be read only once. "
                        "Pass a list, or an object whose __iter__ starts over (as gensim's LineSentence)")


def token_pieces(corpus, piece_chars=PIECE_CHARS):
    """(tokens, line_ends) pieces of the corpus; a sentence of an iterable is one piece."""
    if is_path(corpus):
        yield from read_token_pieces(corpus, piece_chars)
        return
    for number, sentence in enumerate(corpus):
        if isinstance(sentence, (str, bytes)) or not hasattr(sentence, "__iter__"):
            raise TypeError(f"sentence {number} is a {type(sentence).__name__}: each sentence must be a list "
                            "of str tokens (split a line of text with .split())")
        tokens = list(sentence)
        for token in tokens:
            if not isinstance(token, str):
                raise TypeError(f"sentence {number} holds a {type(token).__name__} ({token!r}): tokens must be str")
        yield tokens, True


def corpus_fingerprint(corpus) -> str:
    """A digest of the corpus: of the file's bytes, or of the sentences' tokens."""
    if is_path(corpus):
        return fingerprint(corpus)
    digest = hashlib.blake2b(digest_size=16)
    for tokens, _ in token_pieces(corpus):
        digest.update("\x00".join(tokens).encode("utf-8", "surrogatepass") + b"\x01")
    return digest.hexdigest()
