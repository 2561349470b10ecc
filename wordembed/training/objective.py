"""What the stages ask of an objective (the model a run trains: word2vec.py, classifier.py), with
the defaults that suit a word corpus. An objective has:

- check_output(output_format) and check_init(init): before any work, the format the result will
  be written in, and vectors to start from (a WordVectors), fit its settings;
- prepare_data(corpus, work, threads, log, init): the vocabulary and the encoded corpus (by
  default the words of a text corpus, preparation.count_and_encode);
- table_rows(words): the input and output tables' rows for a vocabulary, and how messages say it;
- start_tables(input_vectors, output_vectors): the seed's start (by default tables.start_tables);
  start_from(run, init): the start taken from vectors given to continue from;
- begin(vocab, device), train_chunk(run, batch, lr_start, lr_end, seed): training;
- result(run): what the trained tables become;
- bags: the input rows each word's update touches (a distributed run's sync); None: its own row;
- huge_pages: whether its CPU tables are asked for in huge pages (memory.zeros_table)."""
from ..errors import TrainingError
from .preparation import count_and_encode
from .tables import start_tables


class Objective:
    bags = None
    huge_pages = True

    def __init__(self, config):
        self.config = config

    def check_output(self, output_format):
        pass

    def check_init(self, init):
        raise TrainingError(f"{type(self).__name__} does not start from existing vectors")

    def prepare_data(self, corpus, work, threads, log, init=None):
        return count_and_encode(corpus, self.config, work, threads, log, init)

    def start_tables(self, input_vectors, output_vectors):
        start_tables(input_vectors, output_vectors, self.config.seed, self.config.init_scale)
