"""Every option of every `nca` subcommand explains itself and names its default."""

from __future__ import annotations

import argparse

import pytest

from nca.cli import TRAIN_OPTIONS, build_parser
from nca.config import DEFAULT_PRESET, PRESETS

PARSER = build_parser()
SUBCOMMANDS = next(a for a in PARSER._actions if isinstance(a, argparse._SubParsersAction)).choices


def options(name: str):
    return [a for a in SUBCOMMANDS[name]._actions if not isinstance(a, argparse._HelpAction)]


def test_the_subcommands_are_all_there():
    assert set(SUBCOMMANDS) == {"train", "evaluate", "export", "record", "sweep", "serve"}


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_option_has_help_and_its_default(name):
    for action in options(name):
        label = action.option_strings or action.dest
        assert action.help and len(action.help) > 8, (name, label)
        valued = action.option_strings and not isinstance(action, argparse._StoreTrueAction | argparse._AppendAction)
        if valued and action.default not in (None, argparse.SUPPRESS) and not action.required:
            assert "default" in action.help, (name, label, action.help)


def test_train_help_shows_the_default_presets_own_values():
    train = {a.dest: a for a in options("train")}
    model_cfg, train_cfg = PRESETS[DEFAULT_PRESET]
    for _, field, _, _ in TRAIN_OPTIONS:
        value = getattr(model_cfg, field, None) if hasattr(model_cfg, field) else getattr(train_cfg, field)
        assert f"(default: {value if value != '' else repr(value)})" in train[field].help, field
    epilog = SUBCOMMANDS["train"].epilog
    assert all(name in epilog for name in PRESETS)
