"""Writes the first N training and test samples of Fashion-MNIST as gzipped IDX files (a fixed subset)."""
import gzip
import struct
import sys
from pathlib import Path


def subset(src: Path, dst: Path, count: int) -> None:
    with gzip.open(src, "rb") as f:
        magic = f.read(4)
        dims = struct.unpack(">" + "I" * magic[3], f.read(4 * magic[3]))
        per_item = 1
        for d in dims[1:]:
            per_item *= d
        body = f.read(count * per_item)
    with gzip.open(dst, "wb") as f:
        f.write(magic)
        f.write(struct.pack(">" + "I" * len(dims), count, *dims[1:]))
        f.write(body)


def main() -> None:
    src, dst, n_train, n_test = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    dst.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        subset(src / f"{prefix}-images-idx3-ubyte.gz", dst / f"{prefix}-images-idx3-ubyte.gz", n)
        subset(src / f"{prefix}-labels-idx1-ubyte.gz", dst / f"{prefix}-labels-idx1-ubyte.gz", n)


if __name__ == "__main__":
    main()
