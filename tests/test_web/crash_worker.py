"""A training worker that dies the way an OOM kill does: no message, non-zero exit."""

import os


def main(spec, messages, stop) -> None:
    os._exit(3)
