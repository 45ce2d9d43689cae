"""What plain words cost per page run (server side): the glossary tooltips (words.tip) of every text the
playground and the calculator show, the longest single one (the kernel picker's label and ~30 options), and the
presenter wording (glossary.plain). Prints medians and p95 with the machine's load.

    python bench/glossary_cost.py [repeats]
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere: python bench/glossary_cost.py
os.environ.setdefault("CNNVIZ_DATA", str(ROOT.parent / "shared" / "datasets"))

from app_pages.shell import words  # noqa: E402
from cnnviz import glossary  # noqa: E402
from tests import pagewalk  # noqa: E402
from tools.timing import median_p95_ms  # noqa: E402


def main(n: int = 200) -> None:
    print(f"uptime: {os.popen('uptime').read().strip()}")
    for page in ("playground.py", "dimensions.py"):
        texts = [text for _, text, _ in pagewalk.texts(pagewalk.run(page))]
        med, p95 = median_p95_ms(lambda texts=texts: [words.tip(t) for t in texts], n)
        print(f"{page}: tooltips of its {len(texts)} texts: median {med:.3f} ms, p95 {p95:.3f} ms per run")
        longest = max(texts, key=len)
        med, p95 = median_p95_ms(lambda longest=longest: words.tip(longest), n * 5)
        print(f"  its longest text ({len(longest)} chars): median {med * 1000:.0f} µs, p95 {p95 * 1000:.0f} µs")
        med, p95 = median_p95_ms(lambda texts=texts: [glossary.plain(t) for t in texts], n)
        print(f"  presenter wording of all of them: median {med:.3f} ms, p95 {p95:.3f} ms")
    print(f"uptime: {os.popen('uptime').read().strip()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
