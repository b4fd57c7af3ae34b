import signal
import time

import pytest

from nca.stepper import _ctrl_c_kept


@pytest.fixture(autouse=True)
def interactive_ctrl_c():
    """Python's own Ctrl-C handler, as a terminal user has it: a suite started in the background
    (nohup, `&`) inherits an ignored SIGINT."""
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, inherited)


def swallowed_ctrl_c() -> None:
    """What torch.compile sometimes does with a Ctrl-C that lands inside it: another error, no chain."""
    try:
        signal.raise_signal(signal.SIGINT)
        time.sleep(5)  # not reached: the handler raises first
    except KeyboardInterrupt:
        raise RuntimeError("compile failed") from None


def test_a_ctrl_c_turned_into_another_error_still_interrupts():
    with pytest.raises(KeyboardInterrupt):
        with _ctrl_c_kept():
            swallowed_ctrl_c()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_other_errors_pass_through_unchanged():
    with pytest.raises(RuntimeError, match="no compiler"):
        with _ctrl_c_kept():
            raise RuntimeError("no compiler")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_ctrl_c_stays_ignored():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with _ctrl_c_kept():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
