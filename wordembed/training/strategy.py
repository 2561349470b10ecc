"""What differs between one process and the ranks of a distributed run, as one object the stages
are given (as PyTorch Lightning's Strategy): who prepares, what is shared and gathered, how the
tables agree after a round, and who writes. SingleProcess is the strategy of a plain run; the
torch.distributed one (wordembed/distributed/strategy.py) has the same methods.

The stages never ask "am I distributed?": they call these, and a single process answers at once."""
import torch

# Settings a single process's checkpoint leaves out: they only mean something to several ranks
# (and a checkpoint made before they existed must still resume).
DISTRIBUTED_SETTINGS = ("sync", "sync_hot_rows", "sync_full_every", "dist_timeout")


class LocalRounds:
    """The agreement after a round when there is nobody to agree with: the round's own figures."""
    bytes_sent, seconds, count = 0, 0.0, 0

    def round(self, index, stats, stop, ids, last, checkpoint):
        """As distributed.sync.Sync.round: every rank's [loss, examples, words] (1 x 3), whether to
        stop, whether the tables are whole (always)."""
        return stats.to(device="cpu", dtype=torch.float64).reshape(1, 3), bool(stop), True


class SingleProcess:
    rank, size, lead = 0, 1, True

    def device(self, name) -> torch.device:
        return torch.device(name)

    def log(self, log):
        """Where this process reports: the caller's stream."""
        return log

    def prep_threads(self, threads) -> int:
        return threads

    def lead_prepares(self, prepare):
        """Runs prepare() (the lead's preparation) and returns what it returns."""
        return prepare()

    def share(self, run, work, make_tables):
        """Rank 0's run on every rank and this rank's part of the corpus: here, all of it, as
        (encoded corpus, first sentence, end)."""
        return run, (run.encoded, 0, run.encoded.num_sentences)

    def chunk_words(self, config, device) -> int:
        return config.words_per_chunk

    def gather_plan(self, words):
        """Every rank's words per chunk, by rank."""
        return [words]

    def rounds(self, config, input_vectors, output_vectors, bags):
        return LocalRounds()

    def checkpoint_settings(self, settings: dict) -> dict:
        return {k: v for k, v in settings.items() if k not in DISTRIBUTED_SETTINGS}

    def epoch_details(self, run, rounds, before) -> dict:
        """What an epoch's history entry says of the ranks: nothing here."""
        return {}

    def stops_at_epoch_end(self, requested) -> bool:
        """Whether a Ctrl-C seen by the epoch's end stops the run there (ranks stop at a round's
        sync instead, all together)."""
        return requested

    def finish(self):
        """Every rank has trained; the lead then writes."""
