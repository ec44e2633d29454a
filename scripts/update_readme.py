"""Regenerate README.md's findings table from the code's catalogue (a test keeps them in step).

python scripts/update_readme.py
"""

from __future__ import annotations

import re
from pathlib import Path

from cascadebook.findings import catalogue_markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    new = re.sub(
        r"(<!-- findings:start -->).*?(<!-- findings:end -->)",
        lambda m: m.group(1) + "\n" + catalogue_markdown() + "\n" + m.group(2),
        text,
        flags=re.S,
    )
    README.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
