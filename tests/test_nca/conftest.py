"""Fixtures shared by the nca package's tests."""

from types import SimpleNamespace

import pytest

from nca.cli import main


@pytest.fixture
def nca(capsys):
    """`nca.cli.main` in this process: same code path as the console script, without the import cost."""

    def run(*args):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse exits on bad options
            code = exc.code
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return run
