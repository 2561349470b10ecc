"""Everything a run has: its vocabulary, encoded corpus and tables, and where it stands (epoch,
chunk, losses, the per-epoch history and per-chunk curve). One object, so that preparation,
checkpoints, the ranks of a distributed run and the loop pass it whole."""
import dataclasses

import torch

# Where a run stands: what a checkpoint keeps and a distributed run's lead hands every rank.
COUNTERS = ("epoch", "chunk", "history", "curve", "epoch_loss", "epoch_examples", "epoch_words")


@dataclasses.dataclass
class RunState:
    vocab: object                  # text.vocab.Vocabulary
    input_vectors: torch.Tensor
    output_vectors: torch.Tensor
    fingerprints: dict             # {"corpus": ..., "encoded": ...}: what a resume must find again
    encoded: object = None         # text.corpus.EncodedCorpus: the lead's whole corpus
    epoch: int = 0
    chunk: int = 0                 # rounds of this epoch already trained
    epoch_loss: float = 0.0
    epoch_examples: float = 0.0
    history: list = dataclasses.field(default_factory=list)   # one entry per epoch
    curve: list = dataclasses.field(default_factory=list)     # one point per chunk
    epoch_words: list = dataclasses.field(default_factory=lambda: [0])  # words each rank trained this epoch
    seeded: bool = True            # the tables started from the seed alone (not from vectors to continue from)

    @property
    def untrained(self) -> bool:
        """Nothing trained yet."""
        return self.epoch == 0 and self.chunk == 0 and not self.curve

    @property
    def tables_from_seed(self) -> bool:
        """The tables are the seed's starting tables: a checkpoint leaves them out, every rank makes them."""
        return self.untrained and self.seeded

    def counters(self) -> dict:
        return {name: getattr(self, name) for name in COUNTERS}

    def set_counters(self, values: dict) -> None:
        for name in COUNTERS:
            setattr(self, name, values[name])

    def add_round(self, loss, examples, words_by_rank):
        self.epoch_loss += loss
        self.epoch_examples += examples
        self.epoch_words = [a + int(b) for a, b in zip(self.epoch_words, words_by_rank)]
        self.chunk += 1

    def end_epoch(self, entry):
        self.history.append(entry)
        self.epoch, self.chunk, self.epoch_loss, self.epoch_examples = self.epoch + 1, 0, 0.0, 0.0
        self.epoch_words = [0] * len(self.epoch_words)

    @property
    def mean_loss(self) -> float:
        return self.epoch_loss / max(self.epoch_examples, 1)
