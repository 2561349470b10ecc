"""wordembed.train_vectors: trains CBOW or skip-gram vectors (with or without subwords) on a text
file or Python sentences, in one process or, launched by torchrun, on every rank together.

The entry point only: it picks the strategy for how this process was launched (distributed/) and
runs the stages of a Trainer (training/). It sits at the top, beside the command line, because it
chooses between the layers below it."""
import dataclasses

from .distributed.strategy import strategy_for
from .errors import LostRankError, TrainingError  # noqa: F401  (as wordembed.train exported them)
from .training.config import TrainConfig
from .training.trainer import Trainer, work_dir_for
from .vectors import WordVectors


def train_vectors(corpus, output_path=None, config=None, resume=False, callbacks=(), log=None,
                  output_format=None, init=None, **settings) -> WordVectors:
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
    must match theirs.

    Launched by torchrun with several processes, every rank calls this with the same arguments:
    they train together, rank 0 writes output_path, and every rank returns the same vectors."""
    config = dataclasses.replace(config or TrainConfig(), **settings)
    config.check()
    trainer = Trainer(corpus, config, work_dir_for(output_path), callbacks, log, strategy_for(config),
                      output_path=output_path, output_format=output_format, init=init)
    return trainer.fit(resume=resume)
