"""Feature commands beyond the core round trip (send, collect, checkin, diff, ...).

Each module here defines click commands and lists them in ``COMMANDS``; ``cli.py`` registers
them. Keep imports inside the command functions so ``cascadebook --help`` stays fast.
"""
