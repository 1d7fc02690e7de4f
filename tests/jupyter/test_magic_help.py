"""The README's option reference is the magic's own parser, not a copy that can drift."""

import re
from pathlib import Path

from dezero_widget.magic import _USAGE, AutodiffMagics
from dezero_widget.protocol import DEFAULT_DIRECTION, DEFAULT_MAX_NODES

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_options_block() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"### `%%autodiff` options\n\n```\n(.*?)```", text, re.S)
    assert match, "README lost its %%autodiff options block"
    return match.group(1)


def test_the_readme_lists_every_option_of_the_parser_and_no_other():
    block = readme_options_block()
    parser = AutodiffMagics.autodiff.parser
    parser_flags = {flag for action in parser._actions for flag in action.option_strings}
    readme_flags = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", block))
    assert readme_flags == parser_flags


def test_the_readme_states_the_shared_defaults():
    block = readme_options_block()
    assert f"default {DEFAULT_MAX_NODES}" in block
    assert f"default {DEFAULT_DIRECTION}" in block


def test_help_and_usage_errors_come_from_the_parser():
    assert AutodiffMagics.autodiff.__doc__ == AutodiffMagics.autodiff.parser.format_help()
    for action in AutodiffMagics.autodiff.parser._actions:
        if action.option_strings:
            assert action.option_strings[0] in _USAGE
