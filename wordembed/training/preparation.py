"""The preparation stage: a fresh run's vocabulary, encoded corpus and starting tables (from the
seed, or from vectors to continue from), or a stopped run's state read back from its checkpoint.
The lead of a distributed run does this alone (the strategy then shares it)."""
import hashlib

from . import checkpoint
from ..errors import TrainingError
from ..text.corpus import EncodedCorpus, encode_corpus
from ..text.sentences import describe
from ..text.tokenizing import Tokenizer
from ..text.vocab import Vocabulary
from .state import RunState
from .tables import allocate_tables


def make_tables(objective, config, vocab, device, trained):
    """The objective's two tables for this vocabulary, on the device; started from the seed
    unless trained (their numbers are then copied in)."""
    input_rows, output_rows, what = objective.table_rows(vocab.ix_to_word)
    tables = allocate_tables(input_rows, output_rows, config.dim, device, what, objective.huge_pages)
    if not trained:
        objective.start_tables(*tables)
    return tables


def count_and_encode(corpus, config, work, threads, log, init=None):
    """A word corpus's vocabulary and encoded id stream (in work.corpus_prefix): what an objective
    prepares unless it brings its own (objective.py). init: vectors to continue from
    (a WordVectors): their words are kept, and the corpus's words that pass min_count are added."""
    name = describe(corpus)
    tokenizer = Tokenizer(config.tokenize, config.lowercase)
    # The reference backend is plain Python and PyTorch throughout, its corpus pipeline too.
    pipeline = "native" if config.backend == "fused" else "python"
    # Continuing, every word is counted: one of the old vocabulary counts however rarely it occurs.
    counted = Vocabulary.from_corpus(corpus, 1 if init is not None else config.min_count,
                                     None if init is not None else config.max_final_vocab, tokenizer,
                                     config.max_vocab_size, pipeline, threads)
    vocab = counted if init is None else Vocabulary.continued(init.index_to_key, init.counts, counted,
                                                              config.min_count, config.max_final_vocab)
    vocab.pruned_below = counted.pruned_below
    if vocab.pruned_below:
        print(f"counting held more than max_vocab_size={config.max_vocab_size:,} distinct words: words seen at "
              f"most {vocab.pruned_below} times so far were dropped as it went", file=log, flush=True)
    if counted.total_tokens == 0:
        raise TrainingError(f"the corpus {name} holds no words")
    if len(vocab) == 0:
        raise TrainingError(f"the vocabulary is empty: no word of {name} appears "
                            f"min_count={config.min_count} times; lower --min-count")
    encoded = encode_corpus(corpus, vocab, work.corpus_prefix, tokenizer=tokenizer, pipeline=pipeline,
                            threads=threads)
    return vocab, encoded


def prepare_fresh(corpus, corpus_fingerprint, config, objective, work, device, threads, ranks, log,
                  init=None) -> RunState:
    """The vocabulary and encoded corpus (the objective's prepare_data), the tables, started from
    the seed and then from init (vectors to continue from) where given."""
    vocab, encoded = objective.prepare_data(corpus, work, threads, log, init)
    input_rows, output_rows, what = objective.table_rows(vocab.ix_to_word)
    tables = allocate_tables(input_rows, output_rows, config.dim, device, what, objective.huge_pages)
    fingerprints = {"corpus": corpus_fingerprint, "encoded": encoded.fingerprint()}
    objective.start_tables(*tables)
    run = RunState(vocab, *tables, fingerprints, encoded, epoch_words=[0] * ranks, seeded=init is None)
    if init is not None:
        objective.start_from(run, init)
    return run


def init_digest(vectors) -> str:
    """A digest of vectors to continue from: of their words and every table they start, so that a
    resumed run checks it continues from the same ones."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update("\n".join(vectors.index_to_key).encode("utf-8", "surrogatepass"))
    sw = vectors.subwords
    tables = (vectors.vectors, vectors.output_vectors) if sw is None else (sw.word_rows, sw.ngram_rows, sw.output_rows)
    for table in tables:
        if table is not None:
            digest.update(table.detach().cpu().float().contiguous().numpy())
    return digest.hexdigest()


def restore(corpus_fingerprint, settings, config, objective, work, device, ranks) -> RunState:
    """The run a checkpoint holds, after checking that it was made with these settings and this
    corpus, and that the encoded corpus beside it is the one it trained on."""
    try:
        saved = checkpoint.load(work.checkpoint_path, settings, corpus_fingerprint,
                                lambda words: objective.table_rows(words)[:2])
    except checkpoint.CheckpointError as e:
        raise TrainingError(str(e)) from None
    try:
        encoded = EncodedCorpus(work.corpus_prefix)
        damaged = encoded.fingerprint() != saved["encoded"]
    except (OSError, ValueError) as e:
        damaged, encoded = str(e), None
    if damaged:
        raise TrainingError(f"the encoded corpus in {work.path} is damaged or missing"
                            f"{'' if damaged is True else f' ({damaged})'}: delete {work.path} to start over")
    vocab = Vocabulary(saved["words"], saved["counts"])
    trained = saved["input_vectors"] is not None  # None: saved before any training, the seed's start
    input_vectors, output_vectors = make_tables(objective, config, vocab, device, trained)
    if trained:
        input_vectors.copy_(saved["input_vectors"])
        output_vectors.copy_(saved["output_vectors"])
    return RunState(vocab, input_vectors, output_vectors, {"corpus": saved["corpus"], "encoded": saved["encoded"]},
                   encoded, epoch=saved["epoch"], chunk=saved["chunk"], epoch_loss=saved["epoch_loss"],
                   epoch_examples=saved["epoch_examples"], history=list(saved["history"]),
                   curve=list(saved["curve"]), epoch_words=list(saved.get("epoch_words", [0] * ranks)),
                   seeded=not trained)
