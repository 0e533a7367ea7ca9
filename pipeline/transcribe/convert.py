"""Convert a CTranslate2 Whisper model directory (faster-whisper format) to an openai-whisper checkpoint.

The CTranslate2 ``model.bin`` (binary version >= 4, written by ``ctranslate2/specs/model_spec.py``)
is parsed directly: uint32 version, string spec name, uint32 revision, uint32 variable count, then per
variable: string name, uint8 rank, uint32 dims, uint8 dtype id (float32, int8, int16, int32, float16,
bfloat16), uint32 byte count, raw data; finally uint32 alias count and (alias, target) string pairs.
Strings are uint16 length (including a NUL) + UTF-8 bytes + NUL; everything is little-endian.

Variable mapping, CT2 name -> openai-whisper ``model_state_dict`` key (``E``/``D`` = encoder/decoder):

* ``E/conv{1,2}/{weight,bias}`` -> ``encoder.conv{1,2}.*``; ``E/layer_norm`` -> ``encoder.ln_post``
* ``{E,D}/position_encodings/encodings`` -> ``{encoder,decoder}.positional_embedding``
* ``D/embeddings/weight`` -> ``decoder.token_embedding.weight``; ``D/projection/weight`` (an alias of it)
  is the tied output layer in openai-whisper; ``D/layer_norm`` -> ``decoder.ln``
* ``{E,D}/layer_i/self_attention/layer_norm`` -> ``blocks.i.attn_ln``; its ``linear_0`` (fused rows
  [q; k; v]) -> ``blocks.i.attn.{query,key,value}``; ``linear_1`` -> ``attn.out``. Keys have no bias in
  openai-whisper: CT2 stores zeros there (and a key bias cancels in the softmax anyway), so it is dropped.
* ``D/layer_i/attention/layer_norm`` -> ``blocks.i.cross_attn_ln``; ``linear_0`` -> ``cross_attn.query``,
  ``linear_1`` (fused [k; v]) -> ``cross_attn.{key,value}``, ``linear_2`` -> ``cross_attn.out``
* ``{E,D}/layer_i/ffn/layer_norm`` -> ``blocks.i.mlp_ln``; ``ffn/linear_{0,1}`` -> ``blocks.i.mlp.{0,2}``

Layer norms map gamma/beta -> weight/bias. Head counts come from the ``{E,D}/num_heads`` scalars.
Quantized weights (int8 per-row / int16 per-tensor, with a ``<name>_scale`` variable) are dequantized.

openai-whisper's ``load_model`` ignores anything but ``dims`` and ``model_state_dict``; the alignment
heads from ``config.json`` are stored under the extra checkpoint key ``"alignment_heads"`` (a list of
``[layer, head]``). Use :func:`load_openai_model` (or ``model.set_alignment_heads(
alignment_heads_dump(heads, n_text_layer, n_text_head))``) to apply them.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import struct
import tempfile
from pathlib import Path
from typing import IO, Any

import numpy as np

CONVERTER_VERSION = 1  # bump when the checkpoint layout changes: invalidates cached files
_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, "bfloat16")
_FULL_HASH_LIMIT = 1 << 30  # hash whole model.bin up to 1 GiB (~1 s), sample larger files
_MB = 1 << 20


def _read(f: IO[bytes], fmt: str) -> int:
    size = struct.calcsize("<" + fmt)
    return struct.unpack("<" + fmt, f.read(size))[0]


def _read_str(f: IO[bytes]) -> str:
    n = _read(f, "H")
    return f.read(n)[:-1].decode("utf-8")


def _to_array(raw: bytes, type_id: int, dims: list[int]) -> np.ndarray:
    dtype = _DTYPES[type_id]
    if dtype == "bfloat16":  # upper 16 bits of a float32
        arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
    else:
        arr = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
    return arr.reshape(dims).copy()


def read_ct2_variables(model_dir: str | Path) -> dict[str, np.ndarray]:
    """All variables of ``model_dir/model.bin``, aliases resolved, quantized weights dequantized."""
    path = Path(model_dir) / "model.bin"
    variables: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        version = _read(f, "I")
        if version < 4:
            raise ValueError(f"{path}: CTranslate2 binary version {version} is not supported (need >= 4)")
        _read_str(f)  # spec name ("WhisperSpec")
        _read(f, "I")  # spec revision
        for _ in range(_read(f, "I")):
            name = _read_str(f)
            dims = [_read(f, "I") for _ in range(_read(f, "B"))]
            type_id, num_bytes = _read(f, "B"), _read(f, "I")
            variables[name] = _to_array(f.read(num_bytes), type_id, dims)
        rest = f.read(4)
        aliases = [(_read_str(f), _read_str(f)) for _ in range(struct.unpack("<I", rest)[0] if rest else 0)]
    if any(k.endswith("_zero") for k in variables):
        raise NotImplementedError(f"{path}: AWQ-quantized weights (<name>_zero) are not supported")
    for key in [k for k in variables if k.endswith("_scale")]:
        base = key[: -len("_scale")]
        if base in variables and variables[base].dtype in (np.int8, np.int16):
            scale = variables.pop(key).astype(np.float32)
            q = variables[base].astype(np.float32)
            variables[base] = q / scale.reshape(scale.shape + (1,) * (q.ndim - scale.ndim))
    for alias, target in aliases:  # after dequantizing: an alias has no <name>_scale of its own
        variables[alias] = variables[target]
    return variables


def _count_layers(variables: dict[str, np.ndarray], prefix: str) -> int:
    pat = re.compile(rf"^{prefix}/layer_(\d+)/")
    return 1 + max((int(m.group(1)) for k in variables if (m := pat.match(k))), default=-1)


def _heads(variables: dict[str, np.ndarray], prefix: str, n_state: int) -> int:
    if f"{prefix}/num_heads" in variables:
        return int(variables[f"{prefix}/num_heads"])
    return n_state // 64  # every Whisper size uses 64-dimensional heads


def model_dims(variables: dict[str, np.ndarray]) -> dict[str, int]:
    """openai-whisper ``ModelDimensions`` fields derived from the CT2 variable shapes."""
    conv1, emb = variables["encoder/conv1/weight"], variables["decoder/embeddings/weight"]
    return {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(variables["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": _heads(variables, "encoder", int(conv1.shape[0])),
        "n_audio_layer": _count_layers(variables, "encoder"),
        "n_vocab": int(emb.shape[0]),
        "n_text_ctx": int(variables["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(emb.shape[1]),
        "n_text_head": _heads(variables, "decoder", int(emb.shape[1])),
        "n_text_layer": _count_layers(variables, "decoder"),
    }


def _state_dict(v: dict[str, np.ndarray], dims: dict[str, int]) -> dict[str, np.ndarray]:
    sd: dict[str, np.ndarray] = {}

    def linear(dst: str, src: str, rows: slice = slice(None), bias: bool = True) -> None:
        sd[f"{dst}.weight"] = v[f"{src}/weight"][rows]
        if bias:
            sd[f"{dst}.bias"] = v[f"{src}/bias"][rows]

    def norm(dst: str, src: str) -> None:
        sd[f"{dst}.weight"], sd[f"{dst}.bias"] = v[f"{src}/gamma"], v[f"{src}/beta"]

    def attention(dst: str, src: str, n: int, fused_qkv: bool) -> None:
        q, k, vv = slice(0, n), slice(n, 2 * n), slice(2 * n, 3 * n)
        if fused_qkv:  # linear_0 = [q; k; v], linear_1 = out
            qkv, out = f"{src}/linear_0", f"{src}/linear_1"
            linear(f"{dst}.query", qkv, q)
            linear(f"{dst}.key", qkv, k, bias=False)
            linear(f"{dst}.value", qkv, vv)
        else:  # cross-attention: linear_0 = q, linear_1 = [k; v], linear_2 = out
            kv, out = f"{src}/linear_1", f"{src}/linear_2"
            linear(f"{dst}.query", f"{src}/linear_0")
            linear(f"{dst}.key", kv, slice(0, n), bias=False)
            linear(f"{dst}.value", kv, slice(n, 2 * n))
        linear(f"{dst}.out", out)

    for side, n in (("encoder", dims["n_audio_state"]), ("decoder", dims["n_text_state"])):
        for i in range(dims["n_audio_layer" if side == "encoder" else "n_text_layer"]):
            dst, src = f"{side}.blocks.{i}", f"{side}/layer_{i}"
            norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
            attention(f"{dst}.attn", f"{src}/self_attention", n, fused_qkv=True)
            if side == "decoder":
                norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
                attention(f"{dst}.cross_attn", f"{src}/attention", n, fused_qkv=False)
            norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
            linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
            linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        sd[f"{side}.positional_embedding"] = v[f"{side}/position_encodings/encodings"]
    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    norm("encoder.ln_post", "encoder/layer_norm")
    norm("decoder.ln", "decoder/layer_norm")
    sd["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]
    proj = v.get("decoder/projection/weight")
    if proj is not None and proj is not sd["decoder.token_embedding.weight"]:
        if not np.array_equal(proj, sd["decoder.token_embedding.weight"]):
            raise ValueError("decoder projection is not tied to the token embedding: openai-whisper cannot hold it")
    if np.any(v.get("decoder/projection/bias", 0)):
        raise ValueError("decoder projection has a bias: openai-whisper cannot hold it")
    return sd


def alignment_heads_dump(heads: list[list[int]], n_text_layer: int, n_text_head: int) -> bytes:
    """``heads`` ([layer, head] pairs) in the base85+gzip form ``Whisper.set_alignment_heads`` takes."""
    mask = np.zeros((n_text_layer, n_text_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def convert_ct2_to_openai(model_dir: str | Path, out_file: str | Path) -> Path:
    """Write ``{"dims", "model_state_dict", "alignment_heads"?}`` for ``whisper.load_model(out_file)``."""
    import torch

    model_dir, out_file = Path(model_dir), Path(out_file)
    variables = read_ct2_variables(model_dir)
    dims = model_dims(variables)
    state = {k: torch.from_numpy(np.ascontiguousarray(a)) for k, a in _state_dict(variables, dims).items()}
    checkpoint: dict[str, Any] = {"dims": dims, "model_state_dict": state}
    config_path = model_dir / "config.json"
    if config_path.is_file():
        heads = json.loads(config_path.read_text(encoding="utf-8")).get("alignment_heads")
        if heads:
            checkpoint["alignment_heads"] = [[int(layer), int(head)] for layer, head in heads]
    out_file.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, out_file)
    return out_file


def model_fingerprint(model_dir: str | Path) -> str:
    """Hex digest of model.bin (full sha256 up to 1 GiB, else size + first/last MB + 64 spread 64 KiB
    samples) and config.json, salted with the converter version."""
    path = Path(model_dir) / "model.bin"
    size = path.stat().st_size
    h = hashlib.sha256(f"ct2->openai v{CONVERTER_VERSION} {size}".encode())
    with open(path, "rb") as f:
        if size <= _FULL_HASH_LIMIT:
            for chunk in iter(lambda: f.read(8 * _MB), b""):
                h.update(chunk)
        else:
            offsets = [0, size - _MB] + [size * i // 65 for i in range(1, 65)]
            for off in offsets:
                f.seek(off)
                h.update(f.read(_MB if off in (0, size - _MB) else 1 << 16))
    config = Path(model_dir) / "config.json"
    if config.is_file():
        h.update(config.read_bytes())
    return h.hexdigest()[:24]


def openai_checkpoint_for(model_dir: str | Path, cache_dir: str | Path) -> Path:
    """Cached openai-whisper checkpoint for ``model_dir``: converted once, written atomically."""
    cache_dir = Path(cache_dir)
    target = cache_dir / f"whisper-ct2-{model_fingerprint(model_dir)}.pt"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=cache_dir, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        convert_ct2_to_openai(model_dir, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)  # atomic: readers see either no file or a complete one
    finally:
        tmp.unlink(missing_ok=True)
    return target


def load_openai_model(checkpoint: str | Path, device: str = "cpu") -> Any:
    """``whisper.load_model(checkpoint)`` plus the alignment heads stored in the checkpoint."""
    import torch
    import whisper

    model = whisper.load_model(str(checkpoint), device="cpu")
    heads = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True).get("alignment_heads")
    if heads:  # like whisper.load_model does for its own models: on CPU, before moving to the device
        model.set_alignment_heads(alignment_heads_dump(heads, model.dims.n_text_layer, model.dims.n_text_head))
    return model.to(device)
