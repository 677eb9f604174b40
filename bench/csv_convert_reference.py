"""The reference for bench/run_csv_convert_bench.sh: `strike data convert`'s CSV pipeline in Python with pandas.

Reads the CSV (pandas' C parser), infers numeric vs categorical columns, makes a seeded stratified
train/val/test split, fits medians, means, standard deviations and vocabularies on the train split,
encodes every row (median fill, missing indicators, standardization, category indices with 0 = unknown and
1 = missing) and writes shuffled HDF5 shards with h5py, as strike does.
Usage: csv_convert_reference.py CSV TARGET OUT_DIR [shards=4]
"""
import os
import sys

import h5py
import numpy as np
import pandas as pd


def main():
    path, target, out = sys.argv[1:4]
    shards = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    os.makedirs(out, exist_ok=True)
    df = pd.read_csv(path, keep_default_na=False, na_values=["", "NA"], dtype_backend="numpy_nullable") \
        if pd.__version__ >= "2" else pd.read_csv(path, keep_default_na=False, na_values=["", "NA"])
    y_text = df.pop(target).astype(str)
    classes = sorted(y_text.unique())
    labels = pd.Categorical(y_text, categories=classes).codes.astype(np.int64)

    rng = np.random.default_rng(0)
    train, val, test = [], [], []
    for c in range(len(classes)):
        idx = rng.permutation(np.flatnonzero(labels == c))
        nv, nt = int(round(0.1 * len(idx))), int(round(0.1 * len(idx)))
        val.append(idx[:nv]); test.append(idx[nv:nv + nt]); train.append(idx[nv + nt:])
    split = {"train": np.concatenate(train), "val": np.concatenate(val), "test": np.concatenate(test)}
    in_train = np.zeros(len(df), bool)
    in_train[split["train"]] = True

    numeric, indicators, categorical = [], [], []
    for name in df.columns:
        col = df[name]
        if pd.api.types.is_numeric_dtype(col):
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)
            missing = np.isnan(values)
            t = values[in_train & ~missing]
            median, mean, std = np.median(t), t.mean(), t.std()
            std = std if std > 0 else 1.0
            numeric.append(((np.where(missing, median, values) - mean) / std).astype(np.float32))
            if missing.any():
                indicators.append(missing.astype(np.float32))
        else:
            text = col.astype(object)
            missing = col.isna().to_numpy()
            vocab = sorted(set(text[in_train & ~missing]))
            codes = pd.Categorical(text, categories=vocab).codes.astype(np.int64) + 2  # -1 (unknown/missing) -> 1
            codes[codes == 1] = 0  # not in the vocabulary: unknown
            codes[missing] = 1
            categorical.append(codes)
    num = np.stack(numeric + indicators, axis=1) if numeric else None
    cat = np.stack(categorical, axis=1) if categorical else None

    for name, rows in split.items():
        rows = rng.permutation(rows)
        k = shards if name == "train" else max(1, shards // 4)
        for s in range(k):
            part = rows[s * len(rows) // k:(s + 1) * len(rows) // k]
            with h5py.File(os.path.join(out, f"{name}-{s:05d}-of-{k:05d}.h5"), "w") as f:
                if num is not None:
                    f["numeric"] = num[part]
                if cat is not None:
                    f["categorical"] = cat[part]
                f["label"] = labels[part]
    print(f"reference: {len(df)} rows, {num.shape[1] if num is not None else 0} numeric, "
          f"{cat.shape[1] if cat is not None else 0} categorical")


if __name__ == "__main__":
    main()
