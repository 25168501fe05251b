"""Write a CSV of synthetic reviews of (at least) a given size, for the streaming memory benchmark.

The vocabulary is fixed (a few thousand made-up words plus sentiment words), so
the file grows in rows, not in distinct words, as real data mostly does.
Nothing is held in memory: rows are written as they are drawn.

Usage: python benchmarks/generate_reviews.py OUT.csv SIZE_MB [--seed N]
"""

from __future__ import annotations

import argparse
import csv
import random

POSITIVE = ["good", "great", "excellent", "love", "fast", "bright", "solid", "fair price", "works"]
NEGATIVE = ["bad", "awful", "terrible", "hate", "slow", "dim", "flimsy", "overpriced", "broken"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("size_mb", type=float)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    syllables = ["ka", "lo", "mi", "re", "tu", "sa", "ne", "po", "vi", "da", "ro", "te"]
    filler = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))) for _ in range(3000)})
    target = int(args.size_mb * 1_000_000)
    written = 0
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        while written < target:
            label = rng.randint(0, 1)
            cues = POSITIVE if label else NEGATIVE
            words = rng.choices(filler, k=rng.randint(3, 60))
            for _ in range(rng.randint(1, 3)):
                cue = rng.choice(cues)
                words.insert(
                    rng.randrange(len(words) + 1),
                    f"not {rng.choice(NEGATIVE if label else POSITIVE)}" if rng.random() < 0.2 else cue,
                )
            text = " ".join(words)
            writer.writerow([text, label])
            written += len(text) + 3
    print(f"wrote {args.out}: about {written / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
