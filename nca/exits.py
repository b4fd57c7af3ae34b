"""Exit codes of every `nca` command, written once."""

OK = 0
USER_ERROR = 2  # bad input: one `error: ...` line on stderr, as argparse does for bad flags
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), the shell's convention
