# The Python reference of bench/run_text_convert_bench.sh: strike's text conversion done with pandas,
# sentencepiece and h5py (read the class folders, lenient decoding, stratified split, tokenizer trained on the
# word counts of a train sample, encode, truncate, ragged HDF5 shards). --lines trains sentencepiece on the
# sample's lines instead, as strike did before it counted words (the usual way to call the trainer).
# Usage: /usr/bin/python3 bench/text_convert_reference.py INPUT OUTPUT [--vocab-size N] [--max-tokens N] ...
import argparse, codecs, collections, io, os, sys, time

import h5py
import numpy as np
import pandas as pd
import sentencepiece as spm

codecs.register_error("latin1", lambda e: (e.object[e.start:e.end].decode("latin-1"), e.end))

p = argparse.ArgumentParser()
p.add_argument("input")
p.add_argument("output")
p.add_argument("--vocab-size", type=int, default=8000)
p.add_argument("--max-tokens", type=int, default=512)
p.add_argument("--tokenizer-sample", type=int, default=10_000_000)
p.add_argument("--tokenizer-min-count", type=int, default=2)
p.add_argument("--lines", action="store_true")
p.add_argument("--tokenizer", default="unigram")
p.add_argument("--shards", type=int, default=4)
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()

rows = []
for folder in sorted(os.listdir(a.input)):
    path = os.path.join(a.input, folder)
    if not os.path.isdir(path) or folder.startswith("."):
        continue
    for name in sorted(os.listdir(path)):
        with open(os.path.join(path, name), "rb") as f:
            raw = f.read()
        if raw:
            rows.append((raw.decode("utf-8", errors="latin1"), folder))
df = pd.DataFrame(rows, columns=["text", "label"])
df["label"] = df["label"].astype("category")
classes = list(df["label"].cat.categories)
df["y"] = df["label"].cat.codes.astype(np.int64)

# Stratified split: 10% val, 10% test per class.
rng = np.random.default_rng(a.seed)
part = np.zeros(len(df), dtype=np.int8)
for _, idx in df.groupby("y").indices.items():
    idx = rng.permutation(idx)
    nv, nt = round(0.1 * len(idx)), round(0.1 * len(idx))
    part[idx[:nv]] = 1
    part[idx[nv:nv + nt]] = 2
df["part"] = part

# Tokenizer on a random sample of train documents, drawn as strike draws it (each train document, in order,
# with the chance that makes the sample about --tokenizer-sample bytes, until it holds that many): their
# words seen at least --tokenizer-min-count times (every word when the rarer ones hold half the text), or
# their lines with --lines.
train = df[df["part"] == 0]
sizes = train["text"].map(lambda t: len(t.encode("utf-8"))).to_numpy()
chance = min(1.0, a.tokenizer_sample / max(sizes.sum(), 1))
sample, size = [], 0
for text, n, draw in zip(train["text"], sizes, rng.random(len(train))):
    if size >= a.tokenizer_sample:
        break
    if draw < chance:
        size += n
        sample.append(text)
if a.lines:
    rows = [l.rstrip() for text in sample for l in text.split("\n") if l.strip()]
    fmt = "text"
else:
    counts = collections.Counter()
    for text in sample:
        counts.update(text.split())
    kept = {w: n for w, n in counts.items() if n >= a.tokenizer_min_count}
    if 2 * sum(n * len(w.encode()) for w, n in kept.items()) < sum(n * len(w.encode()) for w, n in counts.items()):
        kept = counts
    rows = [f"{w}\t{n}" for w, n in sorted(kept.items())]
    fmt = "tsv"
model = io.BytesIO()
started = time.perf_counter()
spm.SentencePieceTrainer.train(sentence_iterator=iter(rows), model_writer=model, model_type=a.tokenizer,
                               vocab_size=a.vocab_size, hard_vocab_limit=False, max_sentence_length=65536,
                               input_format=fmt, num_threads=min(os.cpu_count(), 4),
                               pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, minloglevel=2)
print(f"tokenizer trained in {time.perf_counter() - started:.2f} s on {len(rows)} {fmt} rows", file=sys.stderr)
os.makedirs(a.output, exist_ok=True)
with open(os.path.join(a.output, "tokenizer.model"), "wb") as f:
    f.write(model.getvalue())
sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
df["tokens"] = [ids[: a.max_tokens] for ids in sp.encode(df["text"].tolist())]

for p_id, name in enumerate(["train", "val", "test"]):
    split = df[df["part"] == p_id].sample(frac=1.0, random_state=a.seed)
    shards = a.shards if name == "train" else 1
    for k, chunk in enumerate(np.array_split(np.arange(len(split)), shards)):
        sub = split.iloc[chunk]
        lengths = sub["tokens"].map(len).to_numpy()
        with h5py.File(os.path.join(a.output, f"{name}-{k:05d}-of-{shards:05d}.h5"), "w") as f:
            f["tokens"] = np.concatenate([np.asarray(t, dtype=np.int32) for t in sub["tokens"]])
            f["tokens_offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            f["label"] = sub["y"].to_numpy()
print(f"{len(df)} documents, {len(classes)} classes, {sp.get_piece_size()} pieces", file=sys.stderr)
