"""The command line's options come from the settings' declarations: every setting a training
command offers has its --name and, where fastText has one, fastText's -name, with the declared help
and default, and both spellings set the same field."""
import dataclasses

import pytest

from wordembed.cli.parser import build_parser
from wordembed.training.classifier_config import ClassifierConfig
from wordembed.training.config import TrainConfig


def subparser(name):
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    return commands.choices[name]


@pytest.mark.parametrize("command, settings_class", [("supervised", ClassifierConfig), ("train", TrainConfig),
                                                     ("skipgram", TrainConfig)])
def test_each_offered_setting_has_its_declared_spellings_and_help(command, settings_class):
    parser = subparser(command)
    by_dest = {a.dest: a for a in parser._actions}
    offered = [f for f in dataclasses.fields(settings_class) if f.name in by_dest]
    assert len(offered) >= 12
    for f in offered:
        action = by_dest[f.name]
        assert action.help == f.metadata["help"]
        assert (f.metadata["option"] or "--" + f.name.replace("_", "-")) in action.option_strings
        if f.metadata["fasttext"]:
            assert "-" + f.metadata["fasttext"] in action.option_strings


def test_every_fasttext_name_of_the_classifier_is_on_its_command_line():
    parser = subparser("supervised")
    for f in dataclasses.fields(ClassifierConfig):
        if f.metadata.get("fasttext"):
            args = parser.parse_args(["x.txt", "-o", "m.bin", "-" + f.metadata["fasttext"],
                                      {"loss": "hs", "label_prefix": "@@"}.get(f.name, "3")])
            assert str(getattr(args, f.name)) in ("3", "3.0", "hs", "@@"), f.name
