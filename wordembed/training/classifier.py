"""The classifier objective: fastText's supervised training on the stages of a run (trainer.py).
Preparation reads the labelled lines (wordembed/text/labelled.py) into the dictionary and the
encoded stream the stages chunk and checkpoint, each line one "sentence" of its labels (as
-1 - label) and its input rows; a chunk is trained by the compiled op (or its twin), and the
tables become a Classifier.

The run's vocabulary is the dictionary's words, then its labels (the entries with the label
prefix): so a checkpoint holds it as it holds a word2vec run's."""
import torch

from .. import ops, reference
from ..classify.model import Classifier
from ..classify.tree import huffman_paths, noise_cdf
from ..errors import TrainingError
from ..memory import release_free_memory
from ..text import labelled
from ..text.corpus import save_encoded
from ..text.sentences import describe
from ..text.subwords import EOS
from ..text.vocab import Vocabulary
from .classifier_config import LOSSES
from .objective import Objective


class Supervised(Objective):
    # Most of the input table is hashed n-gram rows that a run touches sparsely: in huge pages its
    # first touch waited for the kernel to compact memory (0.7 s of a 1.4 s run with word bigrams,
    # 2,000,000 x 100 rows), and the epochs took as long either way.
    huge_pages = False

    def __init__(self, config):
        super().__init__(config)
        self.dictionary = None

    def check_output(self, output_format):
        if output_format not in (None, "fasttext"):
            raise ValueError(f"a classifier is saved as fastText's supervised .bin, not {output_format!r}")

    def check_init(self, init):
        if init.vector_size != self.config.dim:
            raise TrainingError(f"the pretrained vectors have dim {init.vector_size}, but dim is {self.config.dim}: "
                                f"set --dim {init.vector_size}")

    def prepare_data(self, corpus, work, threads, log, init=None):
        """The dictionary (with the pretrained vectors' words added, as fastText adds them) and the
        encoded lines that have a label and an input row."""
        cfg, name = self.config, describe(corpus)
        text = labelled.text_tensor(corpus)
        counted = labelled.count_tokens(text)
        lines = counted.lines + int(len(text) > 0 and int(text[-1]) != ord("\n"))  # a last line without one
        d = labelled.build_dictionary(counted, cfg.label_prefix, cfg.min_count, cfg.min_count_label)
        if init is not None:
            known = set(d.words)
            extra = [w for w in init.index_to_key if w not in known and not w.startswith(cfg.label_prefix)]
            d.words, d.word_counts = d.words + extra, d.word_counts + [0] * len(extra)
        if not d.labels:
            seen = any(token.startswith(cfg.label_prefix) for token in counted.tokens)
            raise TrainingError(f"{name} has no label: no token starts with {cfg.label_prefix!r} (set the prefix with "
                                "--label-prefix)" if not seen else
                                f"no label of {name} appears min_count_label={cfg.min_count_label} times")
        if not [w for w in d.words if w != EOS]:  # "</s>" alone: every line would be its label and nothing else
            raise TrainingError(f"{name} has no word that appears min_count={cfg.min_count} times" +
                                ("; lower --min-count" if cfg.min_count > 1 else ", only labels"))
        # Known words as their own ids: their char n-grams come from the bags (begin), and the
        # stream is several times shorter than the rows it stands for.
        ids, starts = labelled.encode(text, d, cfg.word_ngrams, cfg.buckets, cfg.minn, cfg.maxn, keep_unlabelled=False,
                                      word_bags=True)
        examples = len(starts) - 1
        if examples == 0:
            raise TrainingError(f"no line of {name} has both a label and a word to learn from")
        if examples < lines:
            print(f"{lines - examples:,} of {lines:,} lines have no label (or no word) and are left out", file=log,
                  flush=True)
        del text, counted  # the mapped file; every token, the dictionary's words apart
        self.dictionary = d
        vocab = Vocabulary(d.words + d.labels, d.word_counts + d.label_counts, total_tokens=d.ntokens)
        encoded = save_encoded(work.corpus_prefix, ids, starts)
        del ids, starts
        release_free_memory()
        return vocab, encoded

    def _split(self, words):
        """(words, labels) of the run's vocabulary: its words, then its labels (the only entries
        that start with the prefix), counted from the end."""
        nlabels = 0
        while nlabels < len(words) and words[-1 - nlabels].startswith(self.config.label_prefix):
            nlabels += 1
        return len(words) - nlabels, nlabels

    def table_rows(self, words):
        """Input rows: the words', then the n-gram buckets'; output rows: one per label."""
        nwords, nlabels = self._split(words)
        buckets = self.config.buckets
        return (nwords + buckets, nlabels, f"{nwords:,} words, {nlabels:,} labels"
                + (f" and {buckets:,} n-gram buckets" if buckets else ""))

    def start_tables(self, input_vectors, output_vectors):
        """Input rows uniform in +-init_scale / dim, as fastText's, filled on every thread; zero outputs."""
        ops.fill_uniform_(input_vectors, self.config.seed, self.config.init_scale / self.config.dim)
        output_vectors.zero_()

    def start_from(self, run, init):
        """The pretrained vectors' rows replace the seed's start of the words they know."""
        index = init.key_to_index
        pairs = [(i, index[w]) for i, w in enumerate(self.dictionary.words) if w in index]
        if pairs:
            ours, theirs = (torch.tensor(side, dtype=torch.int64) for side in zip(*pairs))
            run.input_vectors[ours] = init.vectors[theirs].to(run.input_vectors)

    def begin(self, vocab, device):
        """The dictionary (again, after a resume) and the loss's label tables."""
        nwords, _ = self._split(vocab.ix_to_word)
        counts = vocab.counts.tolist()
        self.dictionary = labelled.LabelledDictionary(
            vocab.ix_to_word[:nwords], counts[:nwords], vocab.ix_to_word[nwords:], counts[nwords:],
            vocab.total_tokens, self.config.label_prefix)
        self.label_cdf = noise_cdf(self.dictionary.label_counts)
        self.tree = huffman_paths(self.dictionary.label_counts)
        fused = self.config.backend == "fused"
        self._train = ops.supervised_train_chunk_ if fused else reference.supervised_train_chunk
        cfg = self.config
        # with char n-grams, (offsets, rows) of each word's bag: its row and its n-gram rows
        self.bags = labelled.word_bags(self.dictionary, cfg.buckets, cfg.minn, cfg.maxn) if cfg.maxn else None

    def train_chunk(self, run, batch, lr_start, lr_end, seed):
        cfg = self.config
        offsets, rows = self.bags if self.bags is not None else (None, None)
        return self._train(run.input_vectors, run.output_vectors, *batch, loss=LOSSES.index(cfg.loss),
                           negative=cfg.neg, label_cdf=self.label_cdf, tree_offsets=self.tree[0],
                           tree_nodes=self.tree[1], tree_codes=self.tree[2], lr_start=lr_start, lr_end=lr_end,
                           seed=seed, deterministic=cfg.deterministic, bag_offsets=offsets, bag_rows=rows)

    def result(self, run) -> Classifier:
        cfg = self.config
        settings = {"dim": cfg.dim, "epoch": cfg.epochs, "minCount": cfg.min_count, "neg": cfg.neg,
                    "wordNgrams": cfg.word_ngrams, "loss": cfg.loss, "bucket": cfg.buckets, "minn": cfg.minn,
                    "maxn": cfg.maxn, "lr": cfg.lr}
        return Classifier(self.dictionary, run.input_vectors.cpu(), run.output_vectors.cpu(), settings)
