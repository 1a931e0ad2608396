"""``python -m staff_console.passwords``: read a password twice (not echoed), print its hash for the accounts file."""

import getpass
import sys

from staff_console.domain.passwords import hash_password


def main() -> int:
    first = getpass.getpass("password: ")
    if len(first) < 10:
        print("a password needs at least 10 characters", file=sys.stderr)  # noqa: T201
        return 1
    if getpass.getpass("again: ") != first:
        print("the two differ", file=sys.stderr)  # noqa: T201
        return 1
    print(hash_password(first))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
