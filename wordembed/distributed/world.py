"""The ranks of a data-parallel run, on torch.distributed: who this process is, the collectives
the trainer calls, and how every failure of another rank becomes a clear LostRankError here.

A run is distributed when torchrun (or anything that sets the same variables: RANK, WORLD_SIZE,
MASTER_ADDR, MASTER_PORT, LOCAL_RANK) launched more than one process; then train_vectors joins
the process group itself (gloo for CPU tensors, and NCCL for CUDA tensors when training on
cuda:LOCAL_RANK), or uses the one the caller's script already made.

Rank 0, the lead, prepares the corpus (vocabulary and encoding) while the others wait on the
rendezvous store; a heartbeat key shows it is alive, so a lead that dies or hangs there is found
within the timeout too. Every later step is a collective with the same timeout: a rank that dies
breaks its connections (the others fail at once), and one that hangs makes them fail when the
timeout runs out."""
import atexit
import contextlib
import datetime
import os
import re
import threading
import time

import torch

from ..errors import LostRankError, TrainingError

ENVIRONMENT = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")  # what torchrun sets, at least
_HEARTBEAT_SECONDS = 1.0
_ROLL_CALL_SECONDS = 3.0  # after a rank is lost, how long the others wait to hear from each other
# What the backends' errors say when a peer died, closed its end or did not answer in time.
_LOST = re.compile(r"connection|closed|reset by peer|broken pipe|timed? ?out|timeout|unreachable|abort|"
                   r"NCCL (?:error|communicator)", re.IGNORECASE)


def launched_ranks() -> int:
    """How many processes the launcher started (1 without one)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        raise TrainingError(f"WORLD_SIZE must be a whole number, got {os.environ['WORLD_SIZE']!r}") from None


def environment_rank() -> int:
    """This process's rank as the launcher set it (0 without one): the command line prints only on
    rank 0."""
    try:
        return int(os.environ.get("RANK", "0")) if launched_ranks() > 1 else 0
    except ValueError:
        return 0


class World:
    """This process's place among the ranks of a distributed run, and the collectives the trainer
    uses; each turns a lost rank into a LostRankError that says what happened and what to do."""

    def __init__(self, timeout, device):
        import torch.distributed as dist
        self.dist, self.timeout = dist, float(timeout)
        missing = [name for name in ENVIRONMENT if name not in os.environ]
        if missing and not dist.is_initialized():
            raise TrainingError(f"WORLD_SIZE is {launched_ranks()} but {', '.join(missing)} "
                                f"{'is' if len(missing) == 1 else 'are'} not set: launch with torchrun "
                                "(docs/guides/distributed.md)")
        self.owns_group = not dist.is_initialized()
        if self.owns_group:
            cuda = torch.device(device).type == "cuda"
            if cuda:  # one GPU per rank, chosen by the launcher's LOCAL_RANK
                torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
            try:
                dist.init_process_group("cpu:gloo,cuda:nccl" if cuda else "gloo",
                                        timeout=datetime.timedelta(seconds=self.timeout))
            except Exception as e:  # noqa: BLE001 (the store and the backends raise several types)
                raise TrainingError(
                    f"rank {os.environ.get('RANK')}: could not join the other ranks at "
                    f"{os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')} within {self.timeout:g} s "
                    f"({_first_line(e)}): check that every rank was started with the same "
                    "--nnodes and rendezvous settings") from None
        self.rank, self.size = dist.get_rank(), dist.get_world_size()
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.local_size = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        self.lead = self.rank == 0
        self.store = dist.distributed_c10d._get_default_store()
        self.broken = False  # a rank was lost: nothing more can be exchanged
        self.prefix = "wordembed/setup/"  # this run's keys on the store (new_run)
        if self.owns_group:
            atexit.register(self._close)

    def device(self, name):
        """The device this rank trains on: cuda means the GPU of this rank's LOCAL_RANK."""
        device = torch.device(name)
        return torch.device("cuda", self.local_rank) if device.type == "cuda" and device.index is None else device

    def _lost(self):
        """A rank is gone: nothing more can be exchanged. The group this World made is taken down
        now, while this process is in a known state (gloo's threads would otherwise meet the
        lost rank again when the process exits)."""
        self.broken = True
        if self.owns_group and self.dist.is_initialized():
            with contextlib.suppress(Exception):
                self.dist.destroy_process_group()

    def _close(self):
        """At exit: the process group this World made is taken down, unless a rank was lost
        (taking it down could then wait on the lost rank)."""
        if self.owns_group and not self.broken and self.dist.is_initialized():
            with contextlib.suppress(Exception):
                self.dist.destroy_process_group()

    # The lead prepares; the others wait for it on the store, not in a collective, because the
    # preparation of a large corpus may take longer than the timeout.

    def new_run(self):
        """Keys of this run on the store. The store may outlive a process group (torchrun's agent
        keeps one for the whole job) and a script may train more than once: every rank counts
        itself in, and the count says which run this is."""
        try:
            joined = self.store.add("wordembed/ranks joined", 1)
        except Exception as e:  # noqa: BLE001
            raise LostRankError(f"rank {self.rank}: the rendezvous store is gone ({_first_line(e)})") from None
        self.prefix = f"wordembed/{(joined - 1) // self.size}/"
        return self.prefix

    @contextlib.contextmanager
    def leading(self, prefix):
        """On the lead, around its preparation: a heartbeat while it works, then 'ok' or its
        error's message for the other ranks."""
        stop = threading.Event()

        def beat():
            n = 0
            while not stop.is_set():
                with contextlib.suppress(Exception):
                    self.store.set(prefix + "heartbeat", str(n))
                n += 1
                stop.wait(_HEARTBEAT_SECONDS)

        beating = threading.Thread(target=beat, name="wordembed-heartbeat", daemon=True)
        beating.start()
        outcome = "ok"
        try:
            yield
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                outcome = "error\nit was interrupted (Ctrl-C) while it prepared the corpus"
            elif isinstance(e, (TrainingError, OSError, ValueError)):
                outcome = f"error\n{e}"
            else:
                outcome = f"error\n{type(e).__name__}: {e}"
            raise
        finally:
            stop.set()
            beating.join()
            with contextlib.suppress(Exception):
                self.store.set(prefix + "prepared", outcome)
                # The store may live in this process (a launch without torchrun's agent): a failed
                # lead waits, within the timeout, until every rank has read why before it exits.
                deadline = time.monotonic() + self.timeout
                while outcome != "ok" and self.store.add(prefix + "read", 0) < self.size - 1 \
                        and time.monotonic() < deadline:
                    time.sleep(0.05)

    def wait_for_lead(self, prefix):
        """On the other ranks: returns once the lead has prepared; TrainingError with the lead's
        own message if it failed, or if its heartbeat stopped for the timeout."""
        last_beat, since = None, time.monotonic()
        while True:
            try:
                if self.store.check([prefix + "prepared"]):
                    outcome = self.store.get(prefix + "prepared").decode()
                    self.store.add(prefix + "read", 1)
                    break
                beat = self.store.get(prefix + "heartbeat") if self.store.check([prefix + "heartbeat"]) else None
            except Exception as e:  # noqa: BLE001
                self._lost()
                raise LostRankError(f"rank {self.rank}: lost rank 0 while it prepared the corpus "
                                    f"({_first_line(e)}); every rank stops") from None
            if beat != last_beat:
                last_beat, since = beat, time.monotonic()
            elif time.monotonic() - since > self.timeout:
                self._lost()
                raise LostRankError(f"rank {self.rank}: rank 0 has given no sign of life for {self.timeout:g} s "
                                    "while preparing the corpus (it hung or died); every rank stops")
            time.sleep(0.2)
        if outcome != "ok":
            raise TrainingError(f"rank 0 failed: {outcome.split(chr(10), 1)[-1]}")

    # Collectives. `what` names the step in the message of a failure.

    def _call(self, what, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RuntimeError as e:  # gloo and NCCL say a peer is gone in RuntimeErrors of several kinds
            if not _LOST.search(str(e)):
                raise
            missing = self._roll_call()
            self._lost()
            raise LostRankError(
                f"rank {self.rank}: lost contact with {missing} during {what} ({_first_line(e)}). "
                f"It died, was stopped, or hung for more than --dist-timeout ({self.timeout:g} s): every "
                "rank stops. Run the same command with --resume to continue from the last checkpoint") from None

    def _roll_call(self) -> str:
        """Which ranks are gone, for the message: every rank that lost contact says so on the
        rendezvous store, and those that have not said so within _ROLL_CALL_SECONDS are named."""
        key = f"{self.prefix}alive/"
        try:
            self.store.set(f"{key}{self.rank}", "1")
            deadline = time.monotonic() + _ROLL_CALL_SECONDS
            while True:
                missing = [r for r in range(self.size) if not self.store.check([f"{key}{r}"])]
                if not missing or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        except Exception:  # noqa: BLE001  (the store lived in rank 0's process)
            return "rank 0 (the rendezvous store it held is gone too)" if not self.lead else "the other ranks"
        if not missing:
            return "the other ranks"
        return ("rank " if len(missing) == 1 else "ranks ") + ", ".join(map(str, missing))

    def broadcast_objects(self, objects, what):
        """Rank 0's objects (a list, in place) on every rank."""
        self._call(what, self.dist.broadcast_object_list, objects, src=0)
        return objects

    def gather_objects(self, obj, what):
        out = [None] * self.size
        self._call(what, self.dist.all_gather_object, out, obj)
        return out

    def broadcast(self, tensor, what):
        self._call(what, self.dist.broadcast, tensor, src=0)

    def all_gather(self, tensor, what):
        """Every rank's tensor, in a list by rank."""
        out = [torch.empty_like(tensor) for _ in range(self.size)]
        self._call(what, self.dist.all_gather, out, tensor.contiguous())
        return out

    def all_reduce_sum(self, tensor, what):
        self._call(what, self.dist.all_reduce, tensor)

    def all_reduce_sum_async(self, tensor, what):
        """Starts the sum; wait() on what it returns ends it (a lost rank is a LostRankError there)."""
        return _Pending(self, what, self._call(what, self.dist.all_reduce, tensor, async_op=True))

    def send(self, tensor, to, what):
        self._call(what, self.dist.send, tensor, dst=to)

    def receive(self, tensor, what):
        self._call(what, self.dist.recv, tensor, src=0)

    def barrier(self, what):
        self._call(what, self.dist.barrier)


class _Pending:
    """A collective in flight."""

    def __init__(self, world, what, work):
        self.world, self.what, self.work = world, what, work

    def wait(self):
        self.world._call(self.what, self.work.wait)


_world = None  # made once per process: a process group cannot be made again under torchrun


def world_for(config):
    """None for a process that was not launched as one of several ranks; otherwise the World of
    this distributed run: the same one for every run of this process (a script may train several
    times), joined with the first run's timeout."""
    global _world
    import torch.distributed as dist
    if launched_ranks() == 1 and not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return None
    if _world is None or not dist.is_initialized():
        _world = World(config.dist_timeout, config.device)
    if _world.broken:
        raise LostRankError(f"rank {_world.rank}: this process lost a rank of its run before; every rank has "
                            "to be started again")
    return _world


def _first_line(error) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
