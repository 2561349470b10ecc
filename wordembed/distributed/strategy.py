"""The torch.distributed strategy: the same small interface as training.strategy.SingleProcess,
answered by the ranks together. Rank 0 (the lead) prepares the corpus and gives every rank the
same vocabulary and starting tables and its own shard of the encoded sentences; each round,
every rank trains chunk_words words of its shard and the ranks' tables are made the same again
(sync.py). The learning rate follows the words trained by all ranks together, and rank 0 alone
writes checkpoints and outputs."""
import os

import numpy as np
import torch

from ..text.corpus import EncodedCorpus
from ..text.vocab import Vocabulary
from ..training.state import RunState
from ..training.strategy import SingleProcess
from .sync import sync_for
from .world import world_for

# Words each CPU rank of a distributed run trains between two syncs, unless chunk_words says: on
# GCIDE with 2 ranks and the overlapped tiers of sync.py (3 seeds each), 2^15 kept one process's
# analogy score (+0.0 and +0.1 points in two runs), 2^16 lost 1.4-1.5 points
# (bench_distributed.py); shorter rounds cost speed, every round has its fixed costs.
DISTRIBUTED_CPU_CHUNK = 1 << 15
_PIECE = 1 << 22  # elements of a corpus shard sent at a time


def strategy_for(config):
    """SingleProcess, or the ranks of the torch.distributed run this process was launched into."""
    world = world_for(config)
    return SingleProcess() if world is None else Distributed(world)


class Distributed:
    def __init__(self, world):
        self.world = world
        self.rank, self.size, self.lead = world.rank, world.size, world.lead

    def device(self, name) -> torch.device:
        return self.world.device(name)

    def log(self, log):
        """Rank 0 speaks for the run; the others' reports go nowhere."""
        return log if self.lead else open(os.devnull, "w")

    def prep_threads(self, threads) -> int:
        """The other ranks of the lead's machine wait while it prepares: it takes their threads too."""
        return min(threads * self.world.local_size, os.cpu_count() or 1)

    def lead_prepares(self, prepare):
        """The lead runs prepare() while the others wait for it (its failure is theirs too)."""
        run = self.world.new_run()
        if self.lead:
            with self.world.leading(run):
                return prepare()
        self.world.wait_for_lead(run)
        return None

    def share(self, run, work, make_tables):
        """Rank 0's vocabulary, counters and tables on every rank, and each rank's shard."""
        run = self._share_state(run, make_tables)
        return run, self._share_corpus(run, work)

    def _share_state(self, run, make_tables):
        world = self.world
        shared = [None]
        if world.lead:
            shared = [{"words": run.vocab.ix_to_word, "counts": run.vocab.counts, "trained": not run.tables_from_seed,
                       **run.counters()}]
        shared = world.broadcast_objects(shared, "the sharing of the vocabulary")[0]
        if not world.lead:
            vocab = Vocabulary(shared["words"], shared["counts"])
            run = RunState(vocab, *make_tables(vocab, trained=shared["trained"]), fingerprints={})
            run.set_counters(shared)
        # Started tables come from the seed on every rank; trained ones, or started ones that came
        # out otherwise somewhere (another torch), are rank 0's.
        sums = torch.tensor([float(run.input_vectors.double().sum()), float(run.output_vectors.double().sum())],
                            dtype=torch.float64)
        if shared["trained"] or not all(torch.equal(s, sums) for s in world.all_gather(sums, "the check of the tables")):
            for table in (run.input_vectors, run.output_vectors):
                world.broadcast(table, "the sharing of the tables")
        return run

    def _share_corpus(self, run, work):
        """Splits the encoded corpus into one run of whole sentences per rank, of about the same
        number of words; rank 0 sends each rank its run, which it keeps in its own folder."""
        world, what = self.world, "the sending of the corpus shards"
        if world.lead:
            encoded = run.encoded
            starts, words = encoded.starts, encoded.num_words
            cuts = [int(np.searchsorted(starts, r * words // world.size)) for r in range(world.size)]
            cuts.append(encoded.num_sentences)
            for rank in range(1, world.size):
                first, last = cuts[rank], cuts[rank + 1]
                begin, end = int(starts[first]), int(starts[last])
                world.send(torch.tensor([last - first, end - begin]), rank, what)
                for a in range(first, last + 1, _PIECE):
                    world.send(torch.from_numpy(np.array(starts[a:min(a + _PIECE, last + 1)]) - begin), rank, what)
                for a in range(begin, end, _PIECE):
                    world.send(torch.from_numpy(np.array(encoded.ids[a:min(a + _PIECE, end)])), rank, what)
            return encoded, cuts[0], cuts[1]
        what = "the receiving of this rank's corpus shard"
        sizes = torch.zeros(2, dtype=torch.int64)
        world.receive(sizes, what)
        sentences, words = sizes.tolist()
        prefix = work.corpus_prefix
        with open(prefix + ".starts", "wb") as starts_file, open(prefix + ".ids", "wb") as ids_file:
            for file, count, dtype in ((starts_file, sentences + 1, torch.int64), (ids_file, words, torch.int32)):
                for a in range(0, count, _PIECE):
                    part = torch.empty(min(_PIECE, count - a), dtype=dtype)
                    world.receive(part, what)
                    file.write(part.numpy().tobytes())
        run.encoded = EncodedCorpus(prefix)
        return run.encoded, 0, run.encoded.num_sentences

    def chunk_words(self, config, device) -> int:
        """Words per rank between two syncs, where the CPU's default is shorter (DISTRIBUTED_CPU_CHUNK)."""
        if config.chunk_words is None and device.type == "cpu":
            return DISTRIBUTED_CPU_CHUNK
        return config.words_per_chunk

    def gather_plan(self, words):
        return self.world.gather_objects(words, "the planning of the rounds")

    def rounds(self, config, input_vectors, output_vectors, bags):
        return sync_for(self.world, config, input_vectors, output_vectors, bags)

    def checkpoint_settings(self, settings: dict) -> dict:
        """A distributed run's checkpoint also names its ranks and sync scheme."""
        return {**settings, "ranks": self.size}

    def epoch_details(self, run, rounds, before) -> dict:
        """What each rank trained this epoch, and what its syncs cost it."""
        bytes_before, seconds_before, count_before = before
        return {"words_by_rank": list(run.epoch_words), "sync_bytes": rounds.bytes_sent - bytes_before,
                "sync_seconds": rounds.seconds - seconds_before, "sync_rounds": rounds.count - count_before}

    def stops_at_epoch_end(self, requested) -> bool:
        return False  # the ranks stop together, at a round's sync

    def finish(self):
        self.world.barrier("the end of training")
