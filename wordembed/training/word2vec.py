"""The word2vec objective: CBOW or skip-gram with negative sampling, with or without fastText's
subwords. What one chunk of the encoded corpus does to the two tables (the fused op, or its
reference twin), and what the trained tables become (WordVectors).

It is one of the stages' two seams (the other is the strategy: one process or several ranks):
the stages prepare, checkpoint, schedule and report, and call the objective for what is its own
(objective.py lists it)."""

import torch

from .. import ops, reference
from ..errors import TrainingError
from ..text.subwords import Subwords, word_bags
from ..text.tokenizing import Tokenizer
from ..vectors import WordVectors
from .objective import Objective


OUTPUT_FORMATS = ("text", "binary", "native", "fasttext")  # see WordVectors.save


class Word2Vec(Objective):
    def __init__(self, config):
        super().__init__(config)
        self.bags = None  # a subword model's (offsets, rows) of every word's bag, on the device

    def check_output(self, output_format):
        """Before any work: the format the result will be written in suits this model."""
        if output_format not in (None, *OUTPUT_FORMATS):
            raise ValueError(f"output_format must be 'text', 'binary', 'native' or 'fasttext', got {output_format!r}")
        if output_format == "fasttext" and not self.config.subwords:
            raise TrainingError("the fastText format is for subword models: set bucket (and maxn) above 0, or "
                                "choose another output format")

    def check_init(self, init):
        """Before any work: vectors to continue from (a WordVectors) fit these settings."""
        cfg, sw = self.config, init.subwords
        if init.vector_size != cfg.dim:
            raise TrainingError(f"the vectors to continue from have dim {init.vector_size}, but dim is {cfg.dim}: "
                                f"set --dim {init.vector_size}")
        if sw is None and cfg.subwords:
            raise TrainingError("the vectors to continue from have no subwords: train them on without --bucket, "
                                "or start from a subword model (wordembed .pt or fastText .bin)")
        if sw is not None and (not cfg.subwords or (sw.bucket, sw.minn, sw.maxn) != (cfg.bucket, cfg.minn, cfg.maxn)):
            raise TrainingError(f"the vectors to continue from are a subword model of {sw.bucket} buckets and "
                                f"n-grams of {sw.minn} to {sw.maxn} characters; train with the same: --bucket "
                                f"{sw.bucket} --minn {sw.minn} --maxn {sw.maxn}")

    def start_from(self, run, init):
        """The rows of the words init knows, its n-gram rows and, where it holds them, its output
        rows replace the seed's start; the other words keep theirs (new words: small random inputs,
        zero outputs)."""
        index = init.key_to_index
        pairs = [(i, index[w]) for i, w in enumerate(run.vocab.ix_to_word) if w in index]
        ours = torch.tensor([i for i, _ in pairs], dtype=torch.int64)
        theirs = torch.tensor([j for _, j in pairs], dtype=torch.int64)
        sw = init.subwords
        inputs, outputs = (init.vectors, init.output_vectors) if sw is None else (sw.word_rows, sw.output_rows)
        device, V = run.input_vectors.device, len(run.vocab)
        run.input_vectors[ours.to(device)] = inputs[theirs].to(run.input_vectors)
        if sw is not None:
            run.input_vectors[V:] = sw.ngram_rows.to(run.input_vectors)
        if outputs is not None:
            run.output_vectors[ours.to(device)] = outputs[theirs].to(run.output_vectors)

    def table_rows(self, words):
        """(input rows, output rows, the rows in words for messages) for this vocabulary (its
        words). A subword model's input table holds the words' rows, then the n-gram buckets' rows."""
        cfg, num_words = self.config, len(words)
        buckets = cfg.bucket if cfg.subwords else 0
        return num_words + buckets, num_words, f"{num_words:,} words" + (f" and {buckets:,} n-gram buckets"
                                                                          if buckets else "")

    def begin(self, vocab, device):
        """The sampling tables of this vocabulary on the device: subsampling, negatives and a
        subword model's bags (each word trains its own row and its n-grams' rows)."""
        cfg = self.config
        self.keep = vocab.keep_probabilities(cfg.sample).to(device)
        self.noise_prob, self.noise_alias = (t.to(device) for t in vocab.noise_alias_table())
        self._cpu_bags = self.bags = None
        if cfg.subwords:
            self._cpu_bags = word_bags(vocab.ix_to_word, cfg.minn, cfg.maxn, cfg.bucket)  # kept for result()
            self.bags = tuple(t.to(device) for t in self._cpu_bags)
        self._train = ops.ns_train_chunk_ if cfg.backend == "fused" else reference.ns_train_chunk

    def train_chunk(self, run, batch, lr_start, lr_end, seed):
        """Trains one chunk (ids, sentence_starts) in place; [loss sum, examples, words] (float64)."""
        cfg = self.config
        offsets, rows = self.bags if self.bags is not None else (None, None)
        return self._train(run.input_vectors, run.output_vectors, *batch, self.keep, self.noise_prob,
                           self.noise_alias, window=cfg.window, negative=cfg.negative, lr_start=lr_start,
                           lr_end=lr_end, seed=seed, deterministic=cfg.deterministic,
                           skipgram=cfg.model == "skipgram", bag_offsets=offsets, bag_rows=rows,
                           shared_negatives=cfg.effective_shared_negatives)

    def result(self, run) -> WordVectors:
        """The trained vectors: the input table's rows, or for a subword model each word's mean
        of its own row and its n-gram rows, with the n-gram rows kept for unseen words."""
        cfg, vocab = self.config, run.vocab
        V, table = len(vocab), run.input_vectors.cpu()
        tokenizer = Tokenizer(cfg.tokenize, cfg.lowercase)  # encode() splits text as training did
        if not cfg.subwords:
            return WordVectors.from_index(vocab.ix_to_word, vocab.word_to_ix, table, vocab.counts,
                                          tokenizer=tokenizer, output_vectors=run.output_vectors.cpu())
        settings = {"ws": cfg.window, "epoch": cfg.epochs, "minCount": cfg.min_count, "neg": cfg.negative,
                    "model": cfg.model, "t": cfg.sample, "ntokens": int(vocab.total_tokens)}
        subwords = Subwords(cfg.minn, cfg.maxn, cfg.bucket, word_rows=table[:V], ngram_rows=table[V:],
                            output_rows=run.output_vectors.cpu(), settings=settings)
        return WordVectors.from_index(vocab.ix_to_word, vocab.word_to_ix,
                                      subwords.word_vectors(vocab.ix_to_word, self._cpu_bags), vocab.counts,
                                      subwords, tokenizer)
