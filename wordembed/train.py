"""wordembed.train_vectors: trains CBOW or skip-gram vectors (with or without subwords) on a text
file or Python sentences, in one process or, launched by torchrun, on every rank together; and
wordembed.train_classifier: fastText's supervised classifier, in one process.

The entry point only: it picks the strategy for how this process was launched (distributed/) and
runs the stages of a Trainer (training/). It sits at the top, beside the command line, because it
chooses between the layers below it."""
import dataclasses
import os
import tempfile

from .distributed.strategy import strategy_for
from .distributed.world import launched_ranks
from .errors import LostRankError, TrainingError  # noqa: F401  (as wordembed.train exported them)
from .classify.model import Classifier
from .training.classifier import Supervised
from .training.classifier_config import ClassifierConfig
from .training.config import TrainConfig
from .training import quantize
from .training.quantize_config import QuantizeConfig
from .training.strategy import SingleProcess
from .text.labelled import pairs_bytes
from .training.trainer import Trainer, work_dir_for
from .vectors import WordVectors


def train_vectors(corpus, output_path=None, config=None, resume=False, callbacks=(), log=None,
                  output_format=None, init=None, work_dir=None, **settings) -> WordVectors:
    """Trains CBOW or skip-gram vectors, with or without subwords, on a corpus: a UTF-8 text
    file's path (one sentence per line), or a re-iterable of sentences, each a list of str tokens
    (gensim's `sentences`), streamed as the file is. Writes them to output_path if given, in
    output_format (see WordVectors.save; by default by name: .txt word2vec text, .pt native, else
    word2vec binary). settings override TrainConfig fields. Every check of the settings and of the
    output runs before any work; resume=True continues from OUTPUT.work/checkpoint.pt.

    init: vectors to continue training from (a WordVectors, or a file: word2vec, fastText .bin,
    wordembed .pt), as gensim's build_vocab(update=True) then train: their words are kept and start
    from their vectors (and output weights, where the file holds them), the corpus's words that
    pass min_count are added with fresh ones; dim and a subword model's buckets and n-gram range
    must match theirs. work_dir: the folder of the run's checkpoint and encoded corpus (default:
    OUTPUT.work, or wordembed-vectors.work in the current folder without an output).

    Launched by torchrun with several processes, every rank calls this with the same arguments:
    they train together, rank 0 writes output_path, and every rank returns the same vectors."""
    config = dataclasses.replace(config or TrainConfig(), **settings)
    config.check()
    trainer = Trainer(corpus, config, work_dir or work_dir_for(output_path), callbacks, log, strategy_for(config),
                      output_path=output_path, output_format=output_format, init=init)
    return trainer.fit(resume=resume)


def train_classifier(data, output_path=None, config=None, resume=False, callbacks=(), log=None,
                     pretrained_vectors=None, work_dir=None, **settings) -> Classifier:
    """Trains fastText's supervised classifier and returns it (a wordembed.Classifier). data: a
    file in fastText's format (one example per line, its labels as tokens that start with
    label_prefix, "__label__" by default) or an iterable of (text, labels) pairs (labels: a str
    or a list of them, the prefix added where missing). settings override ClassifierConfig
    fields (fastText's names and defaults: dim, lr, epochs, word_ngrams, bucket, minn, maxn,
    min_count, min_count_label, neg, loss, threads, seed). Writes fastText's supervised .bin to
    output_path if given; resume=True continues from OUTPUT.work (without an output,
    ./wordembed-classifier.work; or work_dir, if given). pretrained_vectors: vectors
    (a WordVectors or any file WordVectors.load reads) whose words start from their vectors."""
    config = dataclasses.replace(config or ClassifierConfig(), **settings)
    config.check()
    if launched_ranks() > 1:
        raise TrainingError("the classifier trains in one process (its distributed strategy is not written "
                            "yet): launch it without torchrun")
    if isinstance(data, (str, bytes, os.PathLike)):
        return _fit_classifier(data, output_path, config, resume, callbacks, log, pretrained_vectors, work_dir)
    with tempfile.TemporaryDirectory(prefix="wordembed-classifier-") as folder:
        path = os.path.join(folder, "data.txt")
        with open(path, "wb") as f:
            f.write(pairs_bytes(data, config.label_prefix))
        return _fit_classifier(path, output_path, config, resume, callbacks, log, pretrained_vectors, work_dir)


def quantize_classifier(classifier: Classifier, input=None, **settings) -> Classifier:
    """A compressed copy of a classifier, as fastText's quantize makes it: its save() writes
    fastText's .ftz. The settings (training.quantize_config.QuantizeConfig): cutoff keeps that many input rows (words and n-grams), those of largest norm;
    retrain trains them again on `input` (a labelled file) for epochs at lr; every input row is
    stored as one byte per dsub numbers (product quantization); qnorm stores the rows' norms
    apart; qout quantizes the output rows too (at least 256 labels)."""
    return quantize.quantize_classifier(classifier, QuantizeConfig(**settings), input)


def _fit_classifier(path, output_path, config, resume, callbacks, log, pretrained_vectors, work_dir):
    work_dir = work_dir or work_dir_for(output_path, "wordembed-classifier")
    trainer = Trainer(path, config, work_dir, callbacks, log, SingleProcess(), Supervised(config),
                      output_path=output_path, init=pretrained_vectors)
    return trainer.fit(resume=resume)
