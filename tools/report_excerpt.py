"""Write the README's excerpt of the alignment report: its opening, in words, as `make report` wrote it.

The README shows what a sales leader reads first in the alignment impact report at its embedded
defaults: the headline, what the answer leans on, how the maturity levels are calibrated, and
where the gap comes from. This script takes those paragraphs from a rendered report (the newest
under ``reports/alignment_impact/`` unless a page is given) and rewrites the block between
``<!-- figures:report -->`` and ``<!-- /figures:report -->`` in README.md. Run ``make report``
first:

    .venv/bin/python tools/report_excerpt.py [reports/alignment_impact/<run>/report.html]
"""

from __future__ import annotations

import argparse
import html
import re
from pathlib import Path

from readme_figures import replace_block  # tools/ is this script's folder

ROOT = Path(__file__).resolve().parents[1]
GAP = "buys the largest part of it"


def paragraphs(page: str) -> list[str]:
    """The visible text of every paragraph of a rendered report, in order."""
    body = page.split("<body", 1)[1]
    texts = [re.sub(r"<[^>]+>", "", p) for p in re.findall(r"(?is)<p\b[^>]*>(.*?)</p>", body)]
    return [" ".join(html.unescape(t).split()) for t in texts]


def excerpt(page: str) -> str:
    """The report's opening: headline, what it leans on, the calibration, where the gap comes from."""
    found = paragraphs(page)
    headline = next(p for p in found if p.startswith("Over ") and GAP not in p)
    chosen = [f"**{headline}**"]
    chosen += [p for p in found if p.startswith(("The answer leans most on", "The maturity levels are calibrated"))]
    chosen += [p for p in found if GAP in p]
    return "\n\n".join(f"> {p}" for p in chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="?", help="a rendered alignment impact report [default: the newest]")
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    args = parser.parse_args()
    page = Path(args.page) if args.page else max((ROOT / "reports" / "alignment_impact").glob("*/report.html"),
                                                  key=lambda p: p.stat().st_mtime)
    stamp = (f"*The opening of the alignment impact report as `make report` wrote it (`{page.parent.name}`), "
             "copied by `tools/report_excerpt.py`; every figure in it is the report's own measurement.*")
    readme = Path(args.readme)
    readme.write_text(replace_block(readme.read_text(encoding="utf-8"), "report", excerpt(page.read_text(encoding="utf-8")),
                                    stamp), encoding="utf-8")
    print(excerpt(page.read_text(encoding="utf-8")))


if __name__ == "__main__":
    main()
