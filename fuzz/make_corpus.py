#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/: small valid files of each format, built
here from the formats' definitions with the standard library only (struct, zlib, gzip, json),
so the seeds do not depend on nabla's own writers. The checkpoint seeds are the exception: a
checkpoint directory only means something to the model and optimizer it was saved from, so the
fuzz_checkpoint binary writes them itself (run with NABLA_FUZZ_SEED_DIR set; this script does
that when given the binary).

  python3 fuzz/make_corpus.py [path/to/fuzz_checkpoint]

Re-running it rewrites the same files (every value is a closed form, no randomness).
"""
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    # mtime=0 keeps the bytes the same from run to run.
    return gzip.compress(data, compresslevel=9, mtime=0)


# ---- IDX: 0x00 0x00 type ndim, big-endian uint32 extents, the elements ----
def idx(dims, data, type_byte=0x08):
    return bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data


def pattern(n, mul=37, add=11, mod=256):
    return bytes((i * mul + add) % mod for i in range(n))


labels = idx([6], bytes([0, 1, 2, 9, 3, 7]))
images = idx([2, 4, 4], pattern(32))
matrix = idx([3, 5], pattern(15, 5, 1))
for target in ("idx", "idx_gz"):
    put(target, "labels.idx1", labels)
    put(target, "images.idx3", images)
    put(target, "matrix.idx2", matrix)
put("idx", "labels.idx1.gz", gz(labels))
put("idx", "images.idx3.gz", gz(images))

# ---- CIFAR-10 binary: records of 1 label byte + 3072 pixel bytes ----
def cifar_record(label, seed):
    return bytes([label]) + pattern(3072, 7 + seed, seed)

put("cifar", "one_record.bin", cifar_record(3, 1))
put("cifar", "two_records.bin", cifar_record(0, 2) + cifar_record(9, 3))
put("cifar", "one_record.bin.gz", gz(cifar_record(5, 4)))

# ---- CSV: the first byte picks the options (fuzz/fuzz_csv.cpp), the rest is the file ----
# bits 0-1: header auto / yes / no, bit 2: ';' delimiter, bit 3: label column 0,
# bit 4: num_classes 3, bit 5: label column named "label"
put("csv", "header_auto.csv", b"\x00" + b"x,y,label\n0.5,1,0\n-2,3e2,1\n\n4,.25,2\n")
put("csv", "named_label.csv", b"\x21" + b"label,x,y\ncat,1,2\ndog,3,4\ncat,5,6\n")
put("csv", "no_header_first_label.csv", b"\x0a" + b"1,0.1,0.2\n0,0.3,0.4\n2,0.5,0.6\n")
put("csv", "semicolon_quoted.csv", b"\x04" + b'"a";"b";"label"\r\n1;2;"red"\r\n3;4;"blue"\r\n')
put("csv", "num_classes.csv", b"\x12" + b"0.0,1\n1.0,2\n")

# ---- safetensors: u64 header length, JSON header, data ----
def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, values in tensors:
        fmt = "<%d%s" % (len(values), "f" if dtype == "F32" else "d")
        raw = struct.pack(fmt, *values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data

put("safetensors", "two_tensors.safetensors",
    safetensors([("0.weight", "F32", [2, 3], [0.5 * i - 1 for i in range(6)]),
                 ("0.bias", "F32", [2], [0.25, -0.25])], {"format": "pt"}))
put("safetensors", "f64_scalar_empty.safetensors",
    safetensors([("s", "F64", [], [3.5]), ("e", "F64", [0, 4], []),
                 ("v", "F64", [3], [1.0, 2.0, 3.0])]))
spec = os.path.join(os.path.dirname(ROOT), "..", "tests", "fixtures", "spec_example.safetensors")
shutil.copyfile(spec, os.path.join(ROOT, "safetensors", "spec_example.safetensors"))

# ---- JSON model descriptions ----
models = {
    "mlp.json": {"input": [1, 28, 28], "layers": [
        {"type": "flatten"}, {"type": "linear", "out_features": 16}, {"type": "relu"},
        {"type": "dropout", "p": 0.25}, {"type": "linear", "out_features": 10}]},
    "lenet.json": {"name": "lenet", "input": [1, 28, 28], "layers": [
        {"type": "conv2d", "out_channels": 2, "kernel_size": 5, "padding": 2},
        {"type": "batchnorm2d"}, {"type": "tanh"},
        {"type": "avgpool2d", "kernel_size": 2},
        {"type": "conv2d", "out_channels": 4, "kernel_size": [3, 2], "stride": [2, 1],
         "dilation": 1, "groups": 2, "bias": False, "algorithm": "naive"},
        {"type": "maxpool2d", "kernel_size": 2, "stride": 1, "padding": 1, "floor_mode": True},
        {"type": "flatten", "start_dim": 1, "end_dim": -1},
        {"type": "batchnorm1d", "eps": 0.001, "momentum": 0.2, "affine": False},
        {"type": "linear", "in_features": 392, "out_features": 10, "bias": True},
        {"type": "logsoftmax", "dim": 1}]},
    "activations.json": {"input": [3, 4, 4], "layers": [
        {"type": "leakyrelu", "negative_slope": 0.1}, {"type": "elu", "alpha": 0.5},
        {"type": "sigmoid"}, {"type": "globalavgpool2d", "keepdim": True},
        {"type": "flatten"}, {"type": "softmax", "dim": -1}]},
}
for name, m in models.items():
    put("json_model", name, json.dumps(m, indent=1))

# ---- images: PNG (signature, IHDR, IDAT, IEND chunks) and PGM ----
def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png(width, height, bit_depth, color_type, rows, palette=None):
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every row
    out = b"\x89PNG\r\n\x1a\n"
    out += png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
    if palette:
        out += png_chunk(b"PLTE", palette)
    out += png_chunk(b"IDAT", zlib.compress(raw, 9))
    return out + png_chunk(b"IEND", b"")

put("image", "gray_4x3.png", png(4, 3, 8, 0, [pattern(4, 40, r * 9) for r in range(3)]))
put("image", "rgb_2x2.png", png(2, 2, 8, 2, [pattern(6, 50, r) for r in range(2)]))
put("image", "rgba_3x1.png", png(3, 1, 8, 6, [pattern(12, 21, 5)]))
put("image", "palette_2x2.png",
    png(2, 2, 8, 3, [bytes([0, 1]), bytes([2, 0])], palette=bytes([255, 0, 0, 0, 255, 0, 0, 0, 255])))
put("image", "gray16_2x2.png", png(2, 2, 16, 0, [pattern(4, 60, r) for r in range(2)]))
put("image", "gray1bit_9x2.png", png(9, 2, 1, 0, [bytes([0b10110011, 0b10000000])] * 2))
put("image", "p5_3x2.pgm", b"P5\n3 2\n255\n" + pattern(6, 40, 3))
put("image", "p5_16bit_2x2.pgm", b"P5 2 2 1000\n" + b"".join(struct.pack(">H", v) for v in (0, 250, 999, 1000)))
put("image", "p2_3x2.pgm", b"P2\n# a comment\n3 2\n15\n0 3 6\n9 12 15\n")

# ---- checkpoints: written by the fuzz target itself ----
if len(sys.argv) > 1:
    d = os.path.join(ROOT, "checkpoint")
    os.makedirs(d, exist_ok=True)
    subprocess.run([sys.argv[1]], env=dict(os.environ, NABLA_FUZZ_SEED_DIR=d), check=True)
else:
    print("make_corpus.py: no fuzz_checkpoint binary given; fuzz/corpus/checkpoint left as is")
