"""Real corpora that a fresh Linux machine can get from its package manager."""
import gzip
import os
import re

from ..fileio import atomic_write
from .tokenizing import Tokenizer

GCIDE_DICT = "/usr/share/dictd/gcide.dict.dz"  # Debian/Ubuntu package dict-gcide
_WORD = re.compile(r"[a-z]+")
# dictd's index writes offsets and lengths in base 64, most significant digit first.
_BASE64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_METADATA = "00-"  # dictd's own entries (00-database-info, ...): the licence, the URL, not text


def _decode(digits: str) -> int:
    value = 0
    for digit in digits:
        value = value * 64 + _BASE64[digit]
    return value


def dictd_regions(index_path):
    """The byte ranges (offset, length) of a dictd database's entries, in file order. Several
    headwords may name one entry (alternative spellings); each entry is listed once, and dictd's
    metadata entries are left out."""
    regions = {}
    with open(index_path, encoding="utf-8", errors="replace") as index:
        for number, line in enumerate(index, 1):
            fields = line.rstrip("\n").split("\t")
            try:
                headword, offset, length = fields[0], _decode(fields[1]), _decode(fields[2])
            except (IndexError, KeyError):
                raise ValueError(f"{index_path}, line {number}: not a dictd index line: {line[:80]!r}") from None
            regions.setdefault((offset, length), []).append(headword)
    return [region for region, headwords in sorted(regions.items())
            if not all(h.startswith(_METADATA) for h in headwords)]


def prepare_gcide(out_path, source=GCIDE_DICT) -> int:
    """Writes the GCIDE dictionary (the Collaborative International Dictionary of English) as
    text: one dictionary entry (its headword and all its definitions) per line, as lower-cased
    [a-z]+ words. Returns the number of words. Any dictd database works as `source` (WordNet's
    is /usr/share/dictd/wn.dict.dz); its index is the file beside it ending in `.index`.

    Entries, not the file's physical lines, are the sentences: a definition wraps over several
    lines, and a window that stops at each wrap loses most of its context (one line per source
    line cost every trainer 3-6 analogy points on this corpus)."""
    if not os.path.exists(source):
        raise FileNotFoundError(f"{source} not found: install it with `apt-get install dict-gcide`")
    index = re.sub(r"\.dict(\.dz)?$", "", source) + ".index"
    if not os.path.exists(index):
        raise FileNotFoundError(f"{index} not found: the index of the dictd database {source}")
    words = 0
    end = 0
    with open(source, "rb") as probe:
        opener = gzip.open if probe.read(2) == b"\x1f\x8b" else open  # .dict.dz is gzip; .dict is plain
    with opener(source, "rb") as src, atomic_write(out_path, "w") as out:
        for offset, length in dictd_regions(index):
            if offset + length <= end:
                continue  # inside an entry already written
            src.seek(offset)  # forward only (regions are in order): gzip reads on, no re-reading
            entry = src.read(length).decode("utf-8", errors="replace")
            end = offset + length
            tokens = _WORD.findall(entry.lower())
            if tokens:
                out.write(" ".join(tokens) + "\n")
                words += len(tokens)
    return words


WORDNET = "/usr/share/wordnet"  # Debian/Ubuntu package wordnet-base
# WordNet's 45 lexicographer files, by number: every synset belongs to one (its coarse sense class).
LEXICOGRAPHER_FILES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location noun.motive "
    "noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process noun.quantity noun.relation "
    "noun.shape noun.state noun.substance noun.time verb.body verb.change verb.cognition verb.communication "
    "verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion verb.perception "
    "verb.possession verb.social verb.stative verb.weather adj.ppl").split()


def _synsets(source=WORDNET):
    """(part of speech, the synset line's fields, its gloss) of every line of WordNet's data
    files, nouns, verbs, adjectives and adverbs in turn, the licence header left out."""
    for part in ("noun", "verb", "adj", "adv"):
        path = os.path.join(source, f"data.{part}")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} not found: install WordNet with `apt-get install wordnet-base`")
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  ") or " | " not in line:  # the licence header
                    continue
                fields, gloss = line.split(" | ", 1)
                yield part, fields.split(), gloss


def wordnet_glosses(source=WORDNET):
    """(lexicographer file, gloss) of every WordNet synset, nouns, verbs, adjectives and adverbs in
    turn, in the order of WordNet's data files."""
    tokenize = Tokenizer("words", lowercase=True)
    for _, fields, gloss in _synsets(source):
        yield LEXICOGRAPHER_FILES[int(fields[1])], " ".join(tokenize(gloss.split()))


def prepare_wordnet_glosses(out_path, source=WORDNET, label_prefix="__label__") -> int:
    """Writes every WordNet gloss as one labelled example in fastText's format,
    `__label__noun.animal a long-legged bird ...`: the gloss lower-cased with punctuation split off
    words, labelled by its synset's lexicographer file (45 classes). 117,659 examples from
    wordnet-base 3.0. Returns their number."""
    return write_labelled(out_path, wordnet_glosses(source), label_prefix)


def write_labelled(out_path, examples, label_prefix="__label__") -> int:
    """Writes (label, text) examples as fastText's lines, `PREFIXlabel text`, atomically; returns
    their number."""
    count = 0
    with atomic_write(out_path, "w") as out:
        for label, text in examples:
            out.write(f"{label_prefix}{label} {text}\n")
            count += 1
    return count


def wordnet_word_senses(source=WORDNET):
    """(word, its senses' lexicographer files, its senses' glosses) of every WordNet word (a lemma
    of one part of speech, "_" joining a phrase's words), in order of first appearance."""
    senses = {}
    for part, fields, gloss in _synsets(source):
        label, count = LEXICOGRAPHER_FILES[int(fields[1])], int(fields[3], 16)
        for lemma in fields[4:4 + 2 * count:2]:
            key = (part, lemma.lower().split("(")[0])  # an adjective's "(a)" marker is no part of it
            labels, glosses = senses.setdefault(key, ([], []))
            if label not in labels:
                labels.append(label)
            glosses.append(gloss.strip())
    for (_, word), (labels, glosses) in senses.items():
        yield word, labels, glosses


def prepare_wordnet_senses(out_path, source=WORDNET, label_prefix="__label__") -> int:
    """Writes a multi-label set in fastText's format: one line per WordNet word (of one part of
    speech), labelled by the lexicographer files of all its senses, its text the word and the
    glosses of its senses, lower-cased with punctuation split off words: `__label__noun.animal
    __label__noun.food lamb ; young sheep ; the flesh of a young domestic sheep eaten as food`.
    155,287 examples from wordnet-base 3.0, 15,385 of them with two or more labels. Returns their
    number."""
    tokenize, examples = Tokenizer("words", lowercase=True), 0
    with atomic_write(out_path, "w") as out:
        for word, labels, glosses in wordnet_word_senses(source):
            text = " ; ".join([word.replace("_", " ")] + glosses)
            out.write(" ".join([label_prefix + label for label in labels] + tokenize(text.split())) + "\n")
            examples += 1
    return examples
