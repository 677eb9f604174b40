"""Writes the synthetic CSV of bench/run_csv_convert_bench.sh: ROWS rows of 5 numeric columns (2% missing,
written as NA), 3 categorical ones (one with empty fields) and a 3-class target, seeded.
Usage: make_csv.py PATH ROWS"""
import sys

import numpy as np


def main():
    path, rows = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(0)
    islands, sexes, colors = ["Biscoe", "Dream", "Torgersen"], ["male", "female", ""], ["red", "green", "blue", "cyan", "magenta"]
    species = ["Adelie", "Chinstrap", "Gentoo"]
    with open(path, "w") as f:
        f.write("a,b,c,d,e,island,sex,color,species\n")
        for start in range(0, rows, 100000):
            n = min(100000, rows - start)
            x = rng.normal(size=(n, 5))
            missing = rng.random(size=(n, 5)) < 0.02
            lines = []
            for i in range(n):
                r = start + i
                values = ["NA" if missing[i, j] else f"{x[i, j]:.4f}" for j in range(5)]
                lines.append(",".join(values) + f",{islands[r % 3]},{sexes[r % 3]},{colors[r % 5]},{species[(r * 7) % 3]}\n")
            f.write("".join(lines))


if __name__ == "__main__":
    main()
