"""The command line's options for training settings, made from the settings' declarations
(wordembed/training/settings.py): each setting is --its-name (or its declared option) and, where
fastText has it, fastText's -name as well (and --name, when that differs), with the declared help,
choices and default. The values come back as the settings class, ready to check."""
import argparse
import dataclasses

from ..training.settings import declared, value_kind

FORMATTER = argparse.ArgumentDefaultsHelpFormatter  # every option's help shows its default

# fastText's spellings of a value that wordembed spells otherwise
VALUE_ALIASES = {"loss": {"one-vs-all": "ova"}}


def add_settings(parser, settings_class, names, defaults=None, fasttext=True):
    """Adds an option for each named setting; defaults: a command's own default for some of them
    (fastText's skipgram command has subwords, wordembed's train has none)."""
    for name in names:
        f = declared(settings_class, name)
        meta = f.metadata
        default = (defaults or {}).get(name, f.default)
        flags = [meta["option"] or "--" + name.replace("_", "-")]
        if fasttext and meta["fasttext"]:
            flags.append("-" + meta["fasttext"])
            if len(meta["fasttext"]) > 1 and "--" + meta["fasttext"] not in flags:
                flags.append("--" + meta["fasttext"])
        kind = value_kind(f)
        if kind is bool:
            parser.add_argument(*flags, dest=name, action="store_false" if default else "store_true",
                                default=default, help=meta["help"])
            continue
        choices = meta["choices"]
        if choices is not None:
            choices = list(choices) + list(VALUE_ALIASES.get(name, {}))
        parser.add_argument(*flags, dest=name, type=kind, default=default, choices=choices,
                            metavar=name.upper() if choices is None else None, help=meta["help"])


def settings_from(args, settings_class, **fixed):
    """The settings class with every setting the parsed arguments hold (and `fixed` ones)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(settings_class) if hasattr(args, f.name)}
    for name, aliases in VALUE_ALIASES.items():
        if name in values:
            values[name] = aliases.get(values[name], values[name])
    return settings_class(**{**values, **fixed})
