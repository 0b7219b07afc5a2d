#!/usr/bin/python3
"""Makes the CLIP metrics' test fixtures: small models with the inputs and outputs of CLIP
ViT-B/32 (image and text), CLIP ViT-L/14 (image) and LAION's aesthetic head (random weights), a
small CLIP-style tokenizer.json, PNG frame folders, and the reference scores computed on
FastVideo's code path (torchvision's resize, center_crop and normalize as its `_clip_transform`,
F.normalize, VBench's consistency score, the head's score / 10, image-text cosine), with the same
weights on the same frames. The prompts' token ids come from CLIP's own tokenization rules
(OpenAI's SimpleTokenizer: clean, lowercase, split by its pattern, byte-level BPE with `</w>`,
start and end tokens, 77 ids truncated), written here over the small vocabulary.

Needs Debian's python3-torch, python3-torchvision, python3-onnx, python3-pil, python3-regex.
Run from anywhere: /usr/bin/python3 packages/eval/scripts/make_clip_fixtures.py
Writes packages/eval/test/fixtures/clip/.
"""

import html
import json
import os
import shutil
import sys

import numpy as np
import regex
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torchvision.transforms import InterpolationMode
from torchvision.transforms.functional import center_crop, normalize, resize

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_model_fixtures import as_float, clip_frames, cosine_consistency  # noqa: E402
from export_aesthetic_head import export as export_head, load_head  # noqa: E402

OUT = os.path.join(HERE, "..", "test", "fixtures", "clip")
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
CONTEXT = 77

torch.set_num_threads(1)


def clip_transform(frames, size=224):
    """FastVideo's `_clip_transform` on (N, C, H, W) floats on [0, 1]."""
    frames = resize(frames, size, interpolation=InterpolationMode.BICUBIC, antialias=False)
    frames = center_crop(frames, size)
    return normalize(frames, mean=CLIP_MEAN, std=CLIP_STD)


class Block(torch.nn.Module):
    """One pre-norm attention and MLP block, CLIP's layout, one head."""

    def __init__(self, width, causal):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(width)
        self.qkv = torch.nn.Linear(width, 3 * width)
        self.out = torch.nn.Linear(width, width)
        self.ln2 = torch.nn.LayerNorm(width)
        self.fc = torch.nn.Linear(width, 2 * width)
        self.proj = torch.nn.Linear(2 * width, width)
        self.register_buffer("mask", torch.triu(torch.full((CONTEXT, CONTEXT), -1e9), diagonal=1) if causal else None)

    def forward(self, x):
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        att = q @ k.transpose(1, 2) / (q.shape[-1] ** 0.5)
        if self.mask is not None:
            att = att + self.mask
        x = x + self.out(att.softmax(dim=-1) @ v)
        h = self.fc(self.ln2(x))
        return x + self.proj(h * torch.sigmoid(1.702 * h))


class TinyClipImage(torch.nn.Module):
    """CLIP's encode_image call shape: [N, 3, 224, 224] in, [N, embed] out (patches of `patch`)."""

    def __init__(self, patch, width, embed):
        super().__init__()
        grid = 224 // patch
        self.conv = torch.nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        self.cls = torch.nn.Parameter(torch.randn(width) * 0.1)
        self.pos = torch.nn.Parameter(torch.randn(grid * grid + 1, width) * 0.1)
        with torch.no_grad():
            # Features that move with the picture, as a trained encoder's do (consistencies well below 1).
            self.conv.weight.mul_(8.0)
        self.ln_pre = torch.nn.LayerNorm(width)
        self.block = Block(width, causal=False)
        self.ln_post = torch.nn.LayerNorm(width)
        self.proj = torch.nn.Parameter(torch.randn(width, embed))

    def forward(self, pixel_values):
        x = self.conv(pixel_values).flatten(2).transpose(1, 2)
        cls = self.cls.expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.pos)
        x = self.block(x)
        # The class token and the mean of the patch tokens: a small model's features that vary by frame.
        return self.ln_post(x[:, 0, :] + x[:, 1:, :].mean(dim=1) * 4.0) @ self.proj


class TinyClipText(torch.nn.Module):
    """CLIP's encode_text call shape: [N, 77] int64 ids in, [N, embed] out, read at the end token (the largest id)."""

    def __init__(self, vocab, width, embed):
        super().__init__()
        self.tokens = torch.nn.Embedding(vocab, width)
        self.pos = torch.nn.Parameter(torch.randn(CONTEXT, width) * 0.5)
        self.block = Block(width, causal=True)
        self.ln_final = torch.nn.LayerNorm(width)
        self.proj = torch.nn.Parameter(torch.randn(width, embed))

    def forward(self, input_ids):
        x = self.block(self.tokens(input_ids) + self.pos)
        x = self.ln_final(x)
        x = x[torch.arange(x.shape[0]), input_ids.argmax(dim=-1)]
        return x @ self.proj


def export(model, example, path, input_name, output_name):
    torch.onnx.export(
        model,
        example,
        path,
        input_names=[input_name],
        output_names=[output_name],
        dynamic_axes={input_name: {0: "N"}, output_name: {0: "N"}},
        opset_version=13,
    )


# --- CLIP's tokenization rules, over a small vocabulary -------------------------------------------

def bytes_to_unicode():
    """GPT-2's and CLIP's map of bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


MERGES = [
    ("t", "h"), ("th", "e</w>"), ("a", "n"), ("an", "d</w>"), ("o", "f</w>"), ("i", "n"), ("in", "g</w>"),
    ("c", "a"), ("ca", "t</w>"), ("s", "t"), ("st", "y"), ("sty", "l"), ("styl", "e</w>"), ("a", "r"),
    ("ar", "t</w>"), ("'", "s</w>"), ("p", "a"), ("pa", "in"), ("o", "n</w>"), ("e", "r</w>"), ("v", "an"),
    ("g", "o"), ("go", "g"), ("gog", "h</w>"), ("w", "a"), ("t", "er</w>"), ("wa", "ter</w>"), ("c", "o"),
    ("co", "l"), ("o", "r</w>"), ("col", "or</w>"),
]
START = "<|startoftext|>"
END = "<|endoftext|>"
PATTERN = regex.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", regex.IGNORECASE
)


def make_vocab():
    chars = list(bytes_to_unicode().values())
    vocab = chars + [c + "</w>" for c in chars]
    merges = []
    for a, b in MERGES:
        if a not in vocab or b not in vocab:
            raise SystemExit(f"merge {a} {b}: a part is not in the vocabulary yet")
        merges.append((a, b))
        if a + b not in vocab:
            vocab.append(a + b)
    vocab.extend([START, END])
    return {token: i for i, token in enumerate(vocab)}, merges


def tokenizer_json(encoder, merges):
    """A tokenizer.json as Hugging Face's CLIP converter writes one."""
    special = lambda token: {  # noqa: E731
        "id": encoder[token], "content": token, "single_word": False, "lstrip": False, "rstrip": False,
        "normalized": True, "special": True,
    }
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(START), special(END)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
            {"type": "Lowercase"},
        ]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"},
             "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        ]},
        "post_processor": {"type": "RobertaProcessing", "sep": [END, encoder[END]], "cls": [START, encoder[START]],
                           "trim_offsets": False, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": END, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "</w>", "fuse_unk": False, "byte_fallback": False,
                  "vocab": encoder, "merges": [f"{a} {b}" for a, b in merges]},
    }


def bpe(token, ranks):
    word = tuple(token[:-1]) + (token[-1] + "</w>",)
    while len(word) > 1:
        pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        merged, i = [], 0
        while i < len(word):
            if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                merged.append(word[i] + word[i + 1])
                i += 2
            else:
                merged.append(word[i])
                i += 1
        word = tuple(merged)
    return word


def clip_tokenize(text, encoder, merges):
    """OpenAI's clip.tokenize(text, truncate=True) over the small vocabulary (ftfy left out: the prompts need no repair)."""
    byte_map = bytes_to_unicode()
    ranks = {m: i for i, m in enumerate(merges)}
    text = html.unescape(html.unescape(text)).strip()
    text = regex.sub(r"\s+", " ", text).strip().lower()
    ids = []
    for piece in regex.findall(PATTERN, text):
        chars = "".join(byte_map[b] for b in piece.encode("utf-8"))
        ids.extend(encoder[t] for t in bpe(chars, ranks))
    tokens = [encoder[START]] + ids + [encoder[END]]
    if len(tokens) > CONTEXT:
        tokens = tokens[:CONTEXT]
        tokens[-1] = encoder[END]
    return tokens + [0] * (CONTEXT - len(tokens))


PROMPTS = [
    "a cat's art, in the style of van gogh",
    "The  CAT\tand\nthe Water-colour painting!",
    "oil painting of 2026 cats: ça va? ¿qué tal? 日本 😀",
    "",
    " ".join(["the style of water and the art of painting"] * 12),
]


# --- the fixtures ----------------------------------------------------------------------------------

def write_clip(name, frames):
    folder = os.path.join(OUT, "clips", name)
    os.makedirs(folder, exist_ok=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame, mode="RGB").save(os.path.join(folder, f"{i + 1:03d}.png"), optimize=True)
    return f"clips/{name}"


def image_features(model, frames):
    with torch.no_grad():
        return F.normalize(model(clip_transform(as_float(frames))).float(), dim=-1, p=2)


def preprocess_reference():
    """torchvision's `_clip_transform` of small frames, to a smaller side so that the JSON stays small."""
    rng = np.random.default_rng(25)
    cases = []
    # Downscaled, upscaled, centre crops at offsets of 2.5 (rounded to 2) and 5.5 (rounded to 6), square.
    for (h, w), size in [((23, 35), 12), ((9, 12), 16), ((30, 47), 20), ((25, 13), 12), ((16, 16), 16)]:
        frame = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        out = clip_transform(as_float(frame[None]), size)
        output = [float(f"{v:.9g}") for v in out.numpy().ravel().tolist()]
        cases.append({"shape": [h, w], "size": size, "frame": frame.ravel().tolist(), "output": output})
    return cases


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    torch.manual_seed(25)
    encoder, merges = make_vocab()
    b32_image = TinyClipImage(32, 4, 512).eval()
    b32_text = TinyClipText(len(encoder), 8, 512).eval()
    l14_image = TinyClipImage(14, 4, 768).eval()
    export(b32_image, torch.zeros(2, 3, 224, 224), os.path.join(OUT, "clip-b32-image.onnx"), "pixel_values", "image_embeds")
    export(b32_text, torch.zeros(2, CONTEXT, dtype=torch.int64), os.path.join(OUT, "clip-b32-text.onnx"), "input_ids", "text_embeds")
    export(l14_image, torch.zeros(2, 3, 224, 224), os.path.join(OUT, "clip-l14-image.onnx"), "pixel_values", "image_embeds")
    # The head goes through the export script, from a state dict as LAION publishes it.
    head_state = os.path.join(OUT, "head.pth")
    linear = torch.nn.Linear(768, 1)
    with torch.no_grad():
        linear.weight.mul_(40.0)
        linear.bias.fill_(5.0)
    torch.save(linear.state_dict(), head_state)
    head = load_head(head_state)
    export_head(head, os.path.join(OUT, "aesthetic-head.onnx"))
    os.remove(head_state)
    with open(os.path.join(OUT, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(encoder, merges), f, ensure_ascii=False)

    tokens = [{"text": p, "ids": clip_tokenize(p, encoder, merges)} for p in PROMPTS]
    clips = []
    for i, (h, w, t) in enumerate([(36, 48, 5), (48, 36, 4), (30, 49, 3), (40, 40, 3), (96, 128, 3), (30, 50, 1)]):
        frames = clip_frames(500 + i, t, h, w)
        name = write_clip(f"clip-{i}", frames)
        b32 = image_features(b32_image, frames)
        l14 = image_features(l14_image, frames)
        with torch.no_grad():
            aesthetic = (head(l14).squeeze(-1) / 10.0).mean().item()
            prompt = PROMPTS[i % len(PROMPTS)]
            ids = torch.tensor([clip_tokenize(prompt, encoder, merges)], dtype=torch.int64)
            text = F.normalize(b32_text(ids).float(), dim=-1, p=2)
            style = (b32 @ text.T).squeeze(-1).mean().item()
        clips.append({
            "clip": name,
            "frames": t,
            "prompt": prompt,
            "background_consistency": cosine_consistency(b32),
            "aesthetic_quality": aesthetic,
            "appearance_style": style,
        })

    reference = {
        "made_with": {"torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__},
        "tokens": tokens,
        "clips": clips,
    }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1, ensure_ascii=False)
    with open(os.path.join(OUT, "preprocess-reference.json"), "w") as f:
        json.dump(preprocess_reference(), f)
    print(json.dumps([{k: c[k] for k in ("clip", "background_consistency", "aesthetic_quality", "appearance_style")} for c in clips], indent=1))


if __name__ == "__main__":
    sys.exit(main())
