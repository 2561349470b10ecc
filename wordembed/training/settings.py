"""How a training setting is declared: its default, what it means, the values it may take and
the name fastText gives it, in one place, the field of a settings dataclass (config.py,
classifier_config.py). The command line's options (wordembed/cli/options.py), wordembed.fasttext's
keywords and the checks that run before any work are all made from these declarations."""
import dataclasses
import math
import numbers
import types
import typing

from ..errors import TrainingError

INT64_MAX = (1 << 63) - 1


def setting(default, help, *, fasttext=None, low=None, high=None, positive=False, choices=None, option=None):
    """A dataclass field for one setting. fasttext: its name in fastText (its `-name` on the command
    line, its keyword in fastText's Python API); low/high: the range of a number (a whole number
    without high must still fit int64); positive: the number must exceed low; choices: the values
    of a str; option: the command line's --name where it differs from the field's name."""
    metadata = {"help": help, "fasttext": fasttext, "low": low, "high": high, "positive": positive,
                "choices": choices, "option": option}
    return dataclasses.field(default=default, metadata=metadata)


def declared(settings_class, name) -> dataclasses.Field:
    """The field that declares a setting; a TrainingError for a name that is none."""
    for f in dataclasses.fields(settings_class):
        if f.name == name:
            return f
    raise TrainingError(f"{settings_class.__name__} has no setting {name!r}")


def value_kind(f: dataclasses.Field) -> type:
    """bool, int, float or str: what the setting holds when it is not None."""
    kinds = [t for t in typing.get_args(f.type) if t is not type(None)] if isinstance(f.type, types.UnionType) \
        else [f.type]
    return kinds[0]


def optional(f: dataclasses.Field) -> bool:
    return isinstance(f.type, types.UnionType) and type(None) in typing.get_args(f.type)


def fasttext_names(settings_class) -> dict:
    """fastText's name of each setting that has one -> the setting's name."""
    return {f.metadata["fasttext"]: f.name for f in dataclasses.fields(settings_class) if f.metadata.get("fasttext")}


def check_declared(settings) -> None:
    """TrainingError naming the first setting whose value is not of its kind or not in its range."""
    for f in dataclasses.fields(settings):
        meta, kind = f.metadata, value_kind(f)
        if not meta:
            continue
        if kind is bool:
            check_flag(settings, f.name)
        elif kind is int and meta["low"] is not None:
            check_whole(settings, f.name, meta["low"], meta["high"], optional(f))
        elif kind is float and meta["low"] is not None:
            check_number(settings, f.name, meta["low"], meta["positive"], optional(f), meta["high"])
        elif meta["choices"] is not None:
            value = getattr(settings, f.name)
            if value not in meta["choices"]:
                raise TrainingError(f"{f.name} must be one of {', '.join(meta['choices'])}, got {value!r}")


def check_whole(settings, name, low, high=None, optional=False):
    """TrainingError unless settings.name is a whole number in [low, high] (or None, if optional).
    Without a high bound, the number must still fit the int64 the compiled code and numpy take."""
    value = getattr(settings, name)
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TrainingError(f"{name} must be a whole number, got {value!r}")
    if value < low or value > (INT64_MAX if high is None else high):
        bounds = f"at least {low}" if high is None and value < low else f"from {low} to {high or INT64_MAX}"
        raise TrainingError(f"{name} must be {bounds}, got {value}")


def check_flag(settings, name):
    """TrainingError unless settings.name is True or False."""
    value = getattr(settings, name)
    if not isinstance(value, bool):
        raise TrainingError(f"{name} must be True or False, got {value!r}")


def check_number(settings, name, low, positive=False, optional=False, high=None):
    """TrainingError unless settings.name is a finite number >= low (> low, if positive) and at
    most high, if given."""
    value = getattr(settings, name)
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TrainingError(f"{name} must be a finite number, got {value!r}")
    if value < low or (positive and value == low):
        raise TrainingError(f"{name} must be {'>' if positive else '>='} {low}, got {value}")
    if high is not None and value > high:
        raise TrainingError(f"{name} must be at most {high}, got {value}")
