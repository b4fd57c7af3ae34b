import signal
import time

import pytest

from nca.stepper import _ctrl_c_kept


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
