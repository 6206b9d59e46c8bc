"""Render the project's own offline sample data: procedural photos of fridge containers.

The studio must be explorable without downloading anything, and we may not copy or derive from
any photo data set, so every pixel here is drawn from scratch with PIL and numpy: the four
classes of the classic "fridgeObjects" set (can, carton, milk_bottle, water_bottle) on varied
kitchen backgrounds, under varied light, pose, occlusion, clutter and JPEG compression.

It must also teach: the two bottles share their shape, caps and labels and differ in what is
inside (and a slightly wider neck for milk), other classes stand behind the subject, and some
shots are dim, blurred, small or half hidden, so the tutorial's presets score what they do on
real photos (80-90 %, with milk and water bottles confused) rather than a useless 100 %.
``bench/sample_data.py`` measures it.

Every image gets its own random generator seeded by ``(seed, part, index)``, so the output is
deterministic for a seed and any part can be regenerated alone (``--only``).

Usage::

    .venv/bin/python scripts/make_sample_data.py [--out sample_data] [--seed 0] [--only PART]
"""

from __future__ import annotations

import argparse
import csv
import math
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIZE = 224  # output side in pixels; objects are drawn larger and downsampled when placed
JPEG_QUALITY = 88
CLASSES = ("can", "carton", "milk_bottle", "water_bottle")
SINGLE_PER_CLASS = 30
MULTI_COUNT = 60
NEGATIVE_COUNT = 40
PARTS = ("fridge4", "fridge-multilabel", "fridge-negatives")

# How hard the single-label photos are, tuned so the tutorial's presets land where they do
# on real photos (bench/sample_data.py prints the figures; README, "Sample data").
DISTRACTORS = (0.35, 0.45, 0.2)  # chances of 0, 1 and 2 other items behind the subject
OTHER_CLASS_SHARE = 0.3  # of those items, how many are one of the other classes
SUBJECT_HEIGHT = (0.4, 0.82)  # the subject's height, as a fraction of the image
OCCLUSION_CHANCE = 0.3

RGB = tuple[int, int, int]
Rng = np.random.Generator
Renderer = Callable[[Rng, float], Image.Image]
T = TypeVar("T")

SILVER: RGB = (196, 198, 204)
PAINTS: tuple[RGB, ...] = (
    (200, 28, 36), (28, 72, 170), (26, 140, 70), (35, 35, 40), (236, 122, 22),
    (240, 196, 40), (112, 48, 140), (0, 150, 160), (236, 236, 232), (150, 20, 60),
)
BRANDS = ("COLA", "FIZZ", "ZEST", "POP", "LIME", "SPARK", "BOLT", "TONIC", "CITRO", "GINGER")


# --------------------------------------------------------------------------- small helpers


def rng_for(seed: int, part: str, index: int) -> Rng:
    """One generator per image, so images do not depend on which others were rendered."""
    return np.random.default_rng([seed, PARTS.index(part), index])


def pick(rng: Rng, options: Sequence[T]) -> T:
    """A uniformly chosen element (numpy's choice would turn tuples into arrays)."""
    return options[int(rng.integers(len(options)))]


def jitter(rng: Rng, color: RGB, amount: int = 14) -> RGB:
    """A nearby shade, so two objects of the same variant are never exactly alike."""
    shift = rng.integers(-amount, amount + 1, 3)
    return tuple(min(255, max(0, c + int(d))) for c, d in zip(color, shift, strict=True))


def contrast_color(rng: Rng, color: RGB) -> RGB:
    """An accent color that stays readable on ``color`` (dark on light, light on dark)."""
    if sum(color) > 450:
        return pick(rng, ((28, 60, 150), (190, 25, 35), (25, 25, 30)))
    return pick(rng, ((245, 245, 240), (250, 215, 60), (240, 240, 240)))


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled font: no system fonts needed, identical on every machine."""
    return ImageFont.load_default(size=max(size, 6))


def draw_word(draw: ImageDraw.ImageDraw, text: str, center: tuple[float, float],
              max_w: float, max_h: float, fill: RGB) -> None:
    """Brand-like text, as large as fits the box ``max_w`` x ``max_h`` around ``center``."""
    size = int(max_h * 1.25)
    left, top, right, bottom = font(size).getbbox(text)
    scale = min(max_w / max(right - left, 1), max_h / max(bottom - top, 1), 1.6)
    draw.text(center, text, fill=fill, font=font(int(size * scale)), anchor="mm")


def text_lines(draw: ImageDraw.ImageDraw, rng: Rng, box: tuple[float, float, float, float],
               fill: RGB, rows: int) -> None:
    """Grey bars that read as small print (ingredients, nutrition facts) at this resolution."""
    x0, y0, x1, y1 = box
    step = (y1 - y0) / rows
    for i in range(rows):
        end = x0 + (x1 - x0) * rng.uniform(0.5, 1.0)
        y = y0 + i * step
        draw.rectangle([x0, y, end, y + step * 0.45], fill=fill)


def smooth_noise(rng: Rng, height: int, width: int, cell: int) -> np.ndarray:
    """Smooth random field (amplitude about 1), features ``cell`` pixels wide: grain, blotches."""
    small = rng.standard_normal((height // cell + 2, width // cell + 2)).astype(np.float32)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))


def to_rgba_image(rgb: np.ndarray, alpha: np.ndarray) -> Image.Image:
    """Float rgb (0..255) and alpha (0..1) arrays to a PIL RGBA image."""
    stacked = np.dstack([np.clip(rgb, 0, 255), np.clip(alpha, 0, 1) * 255])
    return Image.fromarray(np.round(stacked).astype(np.uint8), "RGBA")


def image_to_layer(img: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """An RGBA image back as an (rgb, alpha) float layer for compositing."""
    arr = np.asarray(img, np.float32)
    return arr[..., :3], arr[..., 3] / 255


def shade_image(img: Image.Image, factor: float) -> Image.Image:
    """The same face under more or less light (keeps alpha)."""
    arr = np.asarray(img.convert("RGBA")).astype(np.float32)
    arr[..., :3] *= factor
    return Image.fromarray(np.round(np.clip(arr, 0, 255)).astype(np.uint8), "RGBA")


# --------------------------------------------------------------------------- surfaces of revolution


@dataclass(frozen=True)
class Material:
    """How a surface answers light: matte paper, glossy paint, brushed metal, clear plastic."""

    ambient: float
    gloss: float  # width of the specular highlight, in normalised surface units
    shine: float  # strength of the specular highlight
    metallic: bool = False


PAINTED_METAL = Material(ambient=0.35, gloss=0.09, shine=0.85, metallic=True)
PLASTIC = Material(ambient=0.45, gloss=0.07, shine=0.7)
GLASS = Material(ambient=0.6, gloss=0.06, shine=0.9)
PAPER = Material(ambient=0.55, gloss=0.3, shine=0.08)
CERAMIC = Material(ambient=0.45, gloss=0.12, shine=0.45)


def profile(height: int, width: int, points: list[tuple[float, float]]) -> np.ndarray:
    """Half-width of a lathe shape per row, from (row fraction, width fraction) control points."""
    ys = np.array([p[0] for p in points]) * (height - 1)
    hs = np.array([p[1] for p in points]) * width / 2
    rows = np.interp(np.arange(height), ys, hs)
    kernel = np.ones(7) / 7  # round the corners between straight sections
    padded = np.pad(rows, 3, mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def round_ends(half_widths: np.ndarray, ellipse_h: float, top: bool, bottom: bool) -> np.ndarray:
    """Curve the silhouette ends into ellipse halves: a cylinder seen slightly from above."""
    out = half_widths.copy()
    h = len(out)
    semi = ellipse_h / 2
    rows = np.arange(h, dtype=np.float32)
    if bottom:
        t = np.clip((rows - (h - 1 - semi)) / semi, 0, 1)
        out *= np.sqrt(1 - t**2)
    if top:
        t = np.clip((semi - rows) / semi, 0, 1)
        out *= np.sqrt(1 - t**2)
    return out


def lathe(half_widths: np.ndarray, width: int, texture: np.ndarray, material: Material,
          light: float, curve: float, opacity: np.ndarray | float = 1.0
          ) -> tuple[np.ndarray, np.ndarray]:
    """Shade a vertical surface of revolution wrapped with a flat label ``texture``.

    The texture spans the visible half circumference; its rows bend down by ``curve`` pixels in
    the middle, as labels do on a cylinder seen from above. ``opacity`` is one value or one per
    texture row (so label edges and water levels bend too). Returns (rgb, alpha) arrays; clear
    materials get more opaque at grazing edges and where highlights are.
    """
    height = len(half_widths)
    x = np.arange(width) + 0.5 - width / 2
    hw = np.maximum(half_widths, 1e-3)[:, None]
    coverage = np.clip(hw - np.abs(x)[None, :] + 0.5, 0, 1) * (half_widths[:, None] > 0.5)
    xn = np.clip(x[None, :] / hw, -1, 1)
    depth = np.sqrt(1 - xn**2)
    v = np.clip(np.round(np.arange(height)[:, None] - curve * depth), 0, height - 1).astype(int)
    u = np.round((np.arcsin(xn) / np.pi + 0.5) * (texture.shape[1] - 1)).astype(int)
    color = texture[v, u]
    lx, lz = light, math.sqrt(1 - light**2)
    diffuse = np.clip(xn * lx + depth * lz, 0, 1)
    shade = material.ambient + (1 - material.ambient) * diffuse
    hx = light * 0.45
    spec = material.shine * np.exp(-(((xn - hx) / material.gloss) ** 2))
    if material.metallic:  # metal mirrors the room: a dark band and a second, softer highlight
        shade = shade * (1 - 0.4 * np.exp(-(((xn - hx - 0.3) / 0.14) ** 2)))
        spec = spec + 0.45 * material.shine * np.exp(-(((xn - hx + 0.62) / 0.1) ** 2))
    shade = shade * (1 - 0.5 * np.abs(xn) ** 10)
    rgb = color * shade[..., None] + 255 * spec[..., None]
    row_opacity = np.broadcast_to(np.asarray(opacity, np.float32), (height,))[v]
    fresnel = 0.5 * np.abs(xn) ** 4 * (row_opacity < 1) * (row_opacity > 0)
    alpha = coverage * np.clip(row_opacity + fresnel + spec * (row_opacity > 0), 0, 1)
    return rgb, alpha


def over(top: tuple[np.ndarray, np.ndarray], bottom: tuple[np.ndarray, np.ndarray]
         ) -> tuple[np.ndarray, np.ndarray]:
    """Porter-Duff 'over' for (rgb, alpha) float layers: glass in front of jam, and so on."""
    rgb_t, a_t = top
    rgb_b, a_b = bottom
    alpha = a_t + a_b * (1 - a_t)
    safe = np.maximum(alpha, 1e-6)[..., None]
    rgb = (rgb_t * a_t[..., None] + rgb_b * (a_b * (1 - a_t))[..., None]) / safe
    return rgb, alpha


def pad_rows(layer: tuple[np.ndarray, np.ndarray], top: int, total: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """Place a layer ``top`` rows down inside a taller transparent one of ``total`` rows."""
    rgb, alpha = layer
    rgb_out = np.zeros((total, *rgb.shape[1:]), np.float32)
    a_out = np.zeros((total, alpha.shape[1]), np.float32)
    rgb_out[top:top + len(rgb)] = rgb
    a_out[top:top + len(alpha)] = alpha
    return rgb_out, a_out


def flat_texture(width: int, height: int, color: RGB) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """A blank label to draw on, later wrapped around a lathe shape."""
    img = Image.new("RGB", (width, height), color)
    return img, ImageDraw.Draw(img)


def ellipse_lid(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], rim: RGB,
                face: RGB, inset: float) -> None:
    """The top of a can or a lid: a rim ellipse with a recessed face inside it."""
    x0, y0, x1, y1 = box
    draw.ellipse(box, fill=rim)
    dx, dy = (x1 - x0) * inset, (y1 - y0) * inset
    draw.ellipse([x0 + dx, y0 + dy, x1 - dx, y1 - dy * 0.6], fill=face)


# --------------------------------------------------------------------------- the four classes


def render_can(rng: Rng, light: float) -> Image.Image:
    """Aluminium soda can: painted metallic cylinder, silver necked top with tab, brand band."""
    w = 110
    h = int(w * rng.uniform(1.65, 1.95))
    e = w * rng.uniform(0.16, 0.24)  # how much of the top ellipse we see
    neck = e / 2 + 0.07 * h
    hw = profile(h, w, [(0, 0.86), (e / 2 / h, 0.86), (neck / h, 1.0), (1, 1.0)])
    hw = round_ends(hw, e, top=False, bottom=True)
    tex_w = int(w * math.pi / 2)
    main = jitter(rng, pick(rng, PAINTS), 10)
    accent = contrast_color(rng, main)
    tex, d = flat_texture(tex_w, h, SILVER)
    paint_top, paint_bottom = neck + 0.02 * h, h - e / 2 - 0.03 * h
    d.rectangle([0, paint_top, tex_w, paint_bottom], fill=main)
    mid_y = (paint_top + paint_bottom) / 2 + rng.uniform(-0.08, 0.08) * h
    design = int(rng.integers(3))
    if design == 0:  # wavy band around the can
        phase, amp, thick = rng.uniform(0, 6.3), rng.uniform(0.02, 0.06) * h, 0.2 * h
        xs = np.linspace(0, tex_w, 40)
        upper = [(x, mid_y - thick / 2 + amp * math.sin(phase + x / tex_w * 6)) for x in xs]
        lower = [(x, mid_y + thick / 2 + amp * math.sin(phase + 1 + x / tex_w * 6)) for x in xs]
        d.polygon(upper + lower[::-1], fill=accent)
        word_color = main
    elif design == 1:  # round logo
        r = 0.3 * w
        d.ellipse([tex_w / 2 - r * 1.2, mid_y - r, tex_w / 2 + r * 1.2, mid_y + r], fill=accent)
        word_color = main
    else:  # two-tone with a diagonal split
        d.polygon([(0, mid_y + 0.15 * h), (tex_w, mid_y - 0.05 * h), (tex_w, paint_bottom),
                   (0, paint_bottom)], fill=accent)
        word_color = contrast_color(rng, main)
    draw_word(d, pick(rng, BRANDS), (tex_w / 2, mid_y), 0.62 * w, 0.16 * h, word_color)
    for y in (paint_top + 0.03 * h, paint_bottom - 0.035 * h):  # thin accent rings
        d.rectangle([0, y, tex_w, y + 0.012 * h], fill=accent)
    rgb, alpha = lathe(hw, w, np.asarray(tex, np.float32), PAINTED_METAL, light, e / 2)
    sprite = to_rgba_image(rgb, alpha)
    d = ImageDraw.Draw(sprite)
    lid = (0.07 * w, 0, 0.93 * w, e)
    ellipse_lid(d, lid, jitter(rng, (222, 224, 230), 6), jitter(rng, (170, 172, 180), 6), 0.06)
    d.arc(lid, 200, 340, fill=(245, 246, 250), width=3)
    tab_x = w / 2 + rng.uniform(-0.08, 0.08) * w
    d.rounded_rectangle([tab_x - 0.1 * w, 0.3 * e, tab_x + 0.1 * w, 0.62 * e],
                        radius=0.05 * w, fill=(150, 152, 160), outline=(205, 207, 212), width=2)
    d.ellipse([tab_x - 0.09 * w, 0.62 * e, tab_x + 0.09 * w, 0.85 * e], fill=(70, 70, 76))
    return sprite


def carton_faces(rng: Rng, wf: int, ws: int, hb: int, base: RGB, panel: RGB
                 ) -> tuple[Image.Image, Image.Image]:
    """Front and side artwork of a milk carton: white board, colored panel, brand, small print."""
    front, d = flat_texture(wf, hb, base)
    wave_y = hb * rng.uniform(0.42, 0.55)
    xs = np.linspace(0, wf, 30)
    phase = rng.uniform(0, 6.3)
    top_edge = [(x, wave_y + 0.04 * hb * math.sin(phase + x / wf * 5)) for x in xs]
    d.polygon([*top_edge, (wf, hb), (0, hb)], fill=panel)
    d.rectangle([0, 0, wf, 0.06 * hb], fill=panel)
    word = pick(rng, ("MILK", "MILK", "LAIT", "OAT", "SOY", "JUICE"))
    on_panel = rng.random() < 0.5
    word_y = (wave_y + hb) / 2 if on_panel else wave_y * 0.55
    draw_word(d, word, (wf / 2, word_y), 0.8 * wf, 0.16 * hb, base if on_panel else panel)
    if rng.random() < 0.6:  # a little badge, e.g. "fresh" or the fat percentage
        r = 0.13 * wf
        cx, cy = wf * rng.uniform(0.25, 0.75), wave_y * rng.uniform(0.2, 0.35) + 0.06 * hb
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=contrast_color(rng, base))
        draw_word(d, pick(rng, ("1.5%", "3.5%", "BIO", "FRESH")), (cx, cy), 1.5 * r, 0.8 * r,
                  base)
    side, d = flat_texture(ws, hb, base)
    d.rectangle([0, wave_y + 0.03 * hb, ws, hb], fill=panel)
    d.rectangle([0, 0, ws, 0.06 * hb], fill=panel)
    text_lines(d, rng, (0.12 * ws, 0.14 * hb, 0.88 * ws, wave_y - 0.04 * hb), (150, 150, 150), 9)
    return front, side


def box_sprite(front: Image.Image, side: Image.Image, rise: int, top_pad: int
               ) -> tuple[Image.Image, int]:
    """A box in three-quarter view: front face plus the side face sheared back by ``rise``.

    Returns the sprite and the y of the front face's top edge (where a lid or gable goes).
    """
    wf, hb = front.size
    ws = side.width
    top = top_pad + rise
    sprite = Image.new("RGBA", (wf + ws, top + hb), (0, 0, 0, 0))
    sprite.paste(front.convert("RGBA"), (0, top))
    sheared = side.convert("RGBA").transform(
        (ws, hb + rise), Image.Transform.AFFINE, (1, 0, 0, rise / ws, 1, -rise),
        resample=Image.Resampling.BILINEAR)
    sprite.alpha_composite(sheared, (wf, top - rise))
    return sprite, top


def face_light(light: float) -> tuple[float, float, float]:
    """Brightness of a box's front, side (to the right) and top faces for a light at ``light``."""
    return 0.97 - 0.08 * light, 0.72 + 0.22 * light, 1.04


def render_carton(rng: Rng, light: float) -> Image.Image:
    """Milk carton: box with a gable top and sealing fin; colored panel on the white board."""
    wf = 110
    ws = int(wf * rng.uniform(0.35, 0.5))
    hb = int(wf * rng.uniform(1.45, 1.9))
    rise = int(ws * 0.4)
    roof = wf * rng.uniform(0.22, 0.3)
    fin = wf * 0.07
    flip = rng.random() < 0.4  # side face on the left instead
    lit = -light if flip else light
    front_k, side_k, top_k = face_light(lit)
    base = jitter(rng, pick(rng, ((246, 246, 242), (244, 238, 222), (236, 240, 246))), 6)
    panel = jitter(rng, pick(rng, ((30, 90, 190), (200, 35, 45), (40, 150, 70), (120, 60, 160),
                                   (240, 140, 30), (40, 170, 210), (230, 90, 140))), 12)
    front, side = carton_faces(rng, wf, ws, hb, base, panel)
    if flip:  # mirror the art now so it reads correctly once the whole box is mirrored
        front = front.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        side = side.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    top_pad = int(max(0, roof + fin - rise / 2)) + 2
    sprite, top = box_sprite(shade_image(front, front_k), shade_image(side, side_k), rise, top_pad)
    d = ImageDraw.Draw(sprite)
    ridge = top - rise / 2 - roof
    roof_face = (0, top), (wf, top), (wf + ws / 2, ridge), (ws / 2, ridge)
    d.polygon(roof_face, fill=tuple(int(c * top_k * 0.98) for c in base))
    stripe_t = 0.35
    lower = [(x0 + (x1 - x0) * stripe_t, y0 + (y1 - y0) * stripe_t)
             for (x0, y0), (x1, y1) in ((roof_face[0], roof_face[3]), (roof_face[1], roof_face[2]))]
    d.polygon([*lower, roof_face[2], roof_face[3]], fill=tuple(int(c * top_k) for c in panel))
    gable = (wf, top), (wf + ws, top - rise), (wf + ws / 2, ridge)
    d.polygon(gable, fill=tuple(int(c * side_k * 0.85) for c in base))
    d.polygon([(ws / 2, ridge), (wf + ws / 2, ridge), (wf + ws / 2, ridge - fin),
               (ws / 2, ridge - fin)], fill=tuple(int(c * 0.93) for c in base))
    d.line([(ws / 2, ridge - fin * 0.4), (wf + ws / 2, ridge - fin * 0.4)],
           fill=tuple(int(c * 0.8) for c in base), width=2)
    if rng.random() < 0.55:  # plastic screw cap on the roof
        cx, cy = wf * 0.45 + ws / 4, (top + ridge) / 2 + 0.05 * roof
        r = 0.13 * wf
        cap = jitter(rng, pick(rng, (panel, (245, 245, 245), (250, 200, 40))), 8)
        d.rectangle([cx - r, cy - 0.5 * r, cx + r, cy + 0.15 * r],
                    fill=tuple(int(c * 0.75) for c in cap))
        d.ellipse([cx - r, cy + 0.15 * r - 0.45 * r, cx + r, cy + 0.15 * r + 0.45 * r],
                  fill=tuple(int(c * 0.75) for c in cap))
        d.ellipse([cx - r, cy - 0.95 * r, cx + r, cy - 0.05 * r], fill=cap)
    noise = smooth_noise(rng, sprite.height, sprite.width, 4) * 1.5
    arr = np.asarray(sprite).astype(np.float32)
    arr[..., :3] += noise[..., None]
    sprite = Image.fromarray(np.round(np.clip(arr, 0, 255)).astype(np.uint8), "RGBA")
    return sprite.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if flip else sprite


@dataclass(frozen=True)
class BottleKind:
    """What tells a milk bottle from a water bottle: what is inside, the neck, the label words.

    Everything else (the PET body, ribs, caps, label colors and placement) is drawn from the
    same choices, so the two classes differ in details, as they do in a real fridge."""

    tints: tuple[RGB, ...]
    body_opacity: float  # of the filled part; the empty headspace stays see-through
    level: tuple[float, float]  # fill line, as a fraction of the height below the shoulder
    neck: tuple[float, float]  # neck half-width, as a fraction of the body's
    words: tuple[str, ...]
    label_chance: float


WATER = BottleKind(tints=((196, 224, 246), (206, 232, 240), (214, 226, 236), (226, 232, 226)),
                   body_opacity=0.32, level=(-0.06, 0.35), neck=(0.3, 0.36),
                   words=("AQUA", "SPRING", "PURE", "ALPINE", "FRESH", "NATURAL"),
                   label_chance=0.7)
MILK = BottleKind(tints=((246, 246, 240), (244, 240, 226), (236, 238, 240)),
                  body_opacity=0.9, level=(-0.1, 0.4), neck=(0.35, 0.44),
                  words=("MILK", "FRESH", "WHOLE", "FARM", "DAIRY", "NATURAL"),
                  label_chance=0.8)
BOTTLE_LABELS: tuple[RGB, ...] = ((30, 100, 200), (250, 250, 250), (40, 160, 120),
                                  (230, 60, 120), (20, 60, 140), (200, 40, 40))
BOTTLE_CAPS: tuple[RGB, ...] = ((30, 80, 190), (240, 240, 240), (40, 150, 70), (220, 40, 40),
                                (20, 150, 200))


def bottle_label(rng: Rng, kind: BottleKind, hw: np.ndarray, w: int, h: int, light: float,
                 curve: float) -> tuple[np.ndarray, np.ndarray]:
    """A wrap-around paper label with a wave of accent color and a brand word."""
    rows = np.arange(h)
    top = h * rng.uniform(0.36, 0.48)
    bottom = min(h * 0.92, top + h * rng.uniform(0.18, 0.4))
    color = jitter(rng, pick(rng, BOTTLE_LABELS), 10)
    lab, d = flat_texture(int(w * 1.6), h, color)
    accent = contrast_color(rng, color)
    xs = np.linspace(0, w * 1.6, 30)
    peaks = [(x, bottom - 0.3 * (bottom - top) * abs(math.sin(x / 30))) for x in xs]
    d.polygon([*peaks, (w * 1.6, bottom), (0, bottom)], fill=accent)
    draw_word(d, pick(rng, kind.words), (w * 0.8, top + (bottom - top) * 0.38), w * 0.8,
              (bottom - top) * 0.32, accent)
    label_rows = ((rows >= top) & (rows <= bottom)).astype(np.float32)
    return lathe(hw * 1.01, w, np.asarray(lab, np.float32), PLASTIC, light, curve, label_rows)


def render_bottle(rng: Rng, light: float, kind: BottleKind) -> Image.Image:
    """PET bottle: ribbed body filled to a line, narrow neck, opaque ridged cap, maybe a label."""
    w = 84
    h = int(w * rng.uniform(2.4, 3.2))
    e = w * 0.18
    cap_h, collar, neck_end = 0.065, 0.085, 0.13
    shoulder = rng.uniform(0.27, 0.34)
    waist = rng.uniform(0.5, 0.7)
    neck = rng.uniform(*kind.neck)
    hw = profile(h, w, [(0, neck + 0.04), (collar, neck + 0.04), (collar + 0.003, neck + 0.14),
                        (collar + 0.012, neck + 0.14), (collar + 0.015, neck),
                        (neck_end, neck), (shoulder - 0.08, 0.86), (shoulder, 1.0),
                        (waist - 0.06, 1.0), (waist, 0.9), (waist + 0.06, 1.0), (1, 1.0)])
    hw = round_ends(hw, e, top=False, bottom=True)
    rows = np.arange(h)
    tint = np.array(jitter(rng, pick(rng, kind.tints), 6))
    tex = np.broadcast_to(tint.astype(np.float32), (h, int(w * 1.6), 3)).copy()
    level = h * (shoulder + rng.uniform(*kind.level))
    filled = rows > level
    tex[filled] *= np.array([0.86, 0.93, 1.0]) if kind is WATER else 0.97
    ribs = (np.sin(rows / h * 2 * math.pi * rng.integers(10, 18)) > 0.75) & (rows > h * 0.15)
    opacity = np.where(filled, kind.body_opacity, 0.2) + 0.18 * ribs * (1 - kind.body_opacity)
    opacity = opacity * (rows > cap_h * h)
    layers = lathe(hw, w, tex, GLASS, light, e / 2, opacity)
    if rng.random() < kind.label_chance:
        layers = over(bottle_label(rng, kind, hw, w, h, light, e / 2), layers)
    cap_rows = int(cap_h * h) + 2
    cap_color = jitter(rng, pick(rng, BOTTLE_CAPS), 10)
    stripes = (np.sin(np.arange(int(w * 1.6)) * 1.3) > 0) * 0.18 + 0.82
    cap_tex = np.array(cap_color, np.float32)[None, None, :] * stripes[None, :, None]
    cap_tex = np.broadcast_to(cap_tex, (cap_rows, len(stripes), 3))
    cap_w = (2 * neck + 0.1) * w / 2
    cap_hw = np.full(cap_rows, cap_w / 2)
    pad = int(e / 6) + 1  # room for the cap's top face
    cap = pad_rows(lathe(cap_hw, w, cap_tex, PLASTIC, light, e / 6), pad, h + pad)
    rgb, alpha = over(cap, pad_rows(layers, pad, h + pad))
    sprite = to_rgba_image(rgb, alpha)
    d = ImageDraw.Draw(sprite)
    d.ellipse([w / 2 - cap_w / 2, pad - e / 6, w / 2 + cap_w / 2, pad + e / 6],
              fill=tuple(min(255, int(c * 1.12)) for c in cap_color))
    return sprite


def render_water_bottle(rng: Rng, light: float) -> Image.Image:
    """Water bottle: clear bluish PET, partly drunk."""
    return render_bottle(rng, light, WATER)


def render_milk_bottle(rng: Rng, light: float) -> Image.Image:
    """Milk bottle: the same PET shape, filled with white milk, a slightly wider neck."""
    return render_bottle(rng, light, MILK)


CLASS_RENDERERS: dict[str, Renderer] = {
    "can": render_can, "carton": render_carton, "milk_bottle": render_milk_bottle,
    "water_bottle": render_water_bottle,
}


# --------------------------------------------------------------------------- hard negatives


JAR_FILLINGS: tuple[tuple[str, RGB, RGB], ...] = (
    ("JAM", (150, 22, 42), (90, 10, 25)),
    ("JAM", (70, 30, 90), (40, 15, 50)),
    ("HONEY", (226, 150, 34), (180, 100, 20)),
    ("PICKLES", (168, 170, 80), (70, 110, 40)),
    ("PEANUT", (176, 118, 62), (150, 95, 50)),
    ("SAUCE", (170, 40, 22), (120, 25, 15)),
    ("OLIVES", (120, 130, 60), (40, 55, 30)),
    ("MARMALADE", (236, 120, 20), (190, 80, 10)),
)


def jar_contents_texture(rng: Rng, w: int, h: int, base: RGB, chunks: RGB) -> np.ndarray:
    """What is inside the glass: a base color with seeds, slices or swirls of a darker one."""
    tex, d = flat_texture(w, h, base)
    for _ in range(int(rng.integers(15, 40))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.02, 0.09) * w
        d.ellipse([x - r, y - r * rng.uniform(0.5, 1.2), x + r, y + r], fill=jitter(rng, chunks))
    arr = np.asarray(tex.filter(ImageFilter.GaussianBlur(2)), np.float32)
    return arr * (1 + 0.08 * smooth_noise(rng, h, w, 6))[..., None]


def render_jar(rng: Rng, light: float) -> Image.Image:
    """Glass jar: wide short cylinder, ridged metal lid, colored contents seen through glass."""
    w = 130
    h = int(w * rng.uniform(0.95, 1.3))
    e = w * 0.2
    lid_h = int(h * rng.uniform(0.15, 0.2))
    word, filling, chunks = pick(rng, JAR_FILLINGS)
    glass_hw = profile(h - lid_h, w, [(0, 0.86), (0.06, 0.86), (0.18, 1.0), (1, 1.0)])
    glass_hw = round_ends(glass_hw, e, top=False, bottom=True)
    gh = len(glass_hw)
    tex_w = int(w * 1.6)
    fill_top = int(gh * rng.uniform(0.12, 0.3))
    contents_hw = glass_hw * 0.95 * (np.arange(gh) >= fill_top)
    contents = lathe(contents_hw, w, jar_contents_texture(rng, tex_w, gh, filling, chunks),
                     Material(0.4, 0.15, 0.25), light, e / 2)
    surface = to_rgba_image(*contents)  # to draw the contents' top surface on
    half = glass_hw[fill_top] * 0.95
    ImageDraw.Draw(surface).ellipse(
        [w / 2 - half, fill_top - e * 0.45, w / 2 + half, fill_top + e * 0.45],
        fill=tuple(min(255, int(c * 1.15)) for c in filling))
    contents = image_to_layer(surface)
    glass_tex = np.full((gh, tex_w, 3), 232.0)
    glass = lathe(glass_hw, w, glass_tex, GLASS, light, e / 2, 0.08)
    inside = over(glass, contents)
    if rng.random() < 0.6:  # paper label
        top, bottom = gh * rng.uniform(0.38, 0.48), gh * rng.uniform(0.78, 0.88)
        paper = jitter(rng, pick(rng, ((246, 240, 222), (250, 250, 250), (236, 226, 196))), 6)
        lab, d = flat_texture(tex_w, gh, paper)
        border = jitter(rng, pick(rng, ((160, 30, 40), (30, 80, 60), (40, 60, 140), (30, 30, 30))))
        inset = 0.04 * gh
        d.rectangle([tex_w * 0.2, top + inset, tex_w * 0.8, bottom - inset], outline=border,
                    width=4)
        draw_word(d, word, (tex_w / 2, (top + bottom) / 2), tex_w * 0.42, (bottom - top) * 0.3,
                  border)
        label_rows = ((np.arange(gh) >= top) & (np.arange(gh) <= bottom)).astype(np.float32)
        label = lathe(glass_hw * 1.005, w, np.asarray(lab, np.float32), PAPER, light, e / 2,
                      label_rows)
        inside = over(label, inside)
    lid_color = jitter(rng, pick(rng, ((205, 165, 70), (200, 202, 208), (190, 30, 35),
                                       (245, 245, 240), (30, 30, 32), (30, 110, 60))), 8)
    ridges = (np.sin(np.arange(tex_w) * 0.9) > 0) * 0.16 + 0.84
    lid_tex = np.broadcast_to(np.array(lid_color, np.float32) * ridges[:, None],
                              (lid_h, tex_w, 3))
    lid_hw = np.full(lid_h, 0.93 * w / 2)
    lid = lathe(lid_hw, w, lid_tex, PAINTED_METAL, light, e / 2)
    pad = int(e / 2) + 1  # room for the lid's top face
    total = pad + lid_h + gh
    rgb, alpha = over(pad_rows(lid, pad, total), pad_rows(inside, pad + lid_h, total))
    sprite = to_rgba_image(rgb, alpha)
    d = ImageDraw.Draw(sprite)
    top_face = (0.035 * w, pad - e / 2, 0.965 * w, pad + e / 2)
    d.ellipse(top_face, fill=tuple(min(255, int(c * 1.1)) for c in lid_color))
    d.arc(top_face, 10, 170, fill=tuple(int(c * 0.8) for c in lid_color), width=3)
    return sprite


def round_fruit(rng: Rng, size: int, color: RGB, light: float, shape: Callable[[np.ndarray],
                np.ndarray], texture: np.ndarray) -> Image.Image:
    """A shaded roundish body (fruit, egg) whose outline radius is ``shape(angle from top)``."""
    c = size / 2
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    x, y = (xx - c) / (c * 0.92), (yy - c) / (c * 0.92)
    theta = np.arctan2(x, -y)
    rho = shape(theta)
    r = np.hypot(x, y)
    coverage = np.clip((rho - r) * c * 0.92 + 0.5, 0, 1)
    nx, ny = x / rho, y / rho
    nz = np.sqrt(np.clip(1 - nx**2 - ny**2, 0, 1))
    lx, ly = light, -0.45
    lz = math.sqrt(max(0.0, 1 - lx**2 - ly**2))
    diffuse = np.clip(nx * lx + ny * ly + nz * lz, 0, 1)
    spec = 0.35 * np.exp(-((nx - lx * 0.5) ** 2 + (ny - ly * 0.5) ** 2) / 0.02)
    shade = (0.35 + 0.7 * diffuse)[..., None]
    rgb = np.array(color, np.float32) * texture[..., None] * shade + 255 * spec[..., None]
    return to_rgba_image(rgb, coverage)


def render_apple(rng: Rng, light: float) -> Image.Image:
    """Apple: red, green or yellow streaked sphere with a top dimple, stem and maybe a leaf."""
    size = 120
    color = jitter(rng, pick(rng, ((190, 30, 30), (150, 20, 25), (120, 180, 50), (220, 190, 60))))
    streaks = 1 + 0.06 * smooth_noise(rng, size, size, 12)
    streaks += 0.08 * smooth_noise(rng, size, size, 30)

    def outline(theta: np.ndarray) -> np.ndarray:
        return (1 + 0.04 * np.cos(2 * theta) - 0.12 * np.exp(-((theta / 0.35) ** 2))
                - 0.05 * np.exp(-(((np.abs(theta) - math.pi) / 0.5) ** 2)))

    sprite = round_fruit(rng, size, color, light, outline, streaks)
    d = ImageDraw.Draw(sprite)
    top = size / 2 - size / 2 * 0.92 * 0.88
    tip = (size / 2 + size * rng.uniform(0.02, 0.06), top - size * 0.12)
    d.line([(size / 2, top + 4), tip], fill=(90, 60, 30), width=int(size * 0.035))
    if rng.random() < 0.5:
        lx, ly = tip[0], tip[1] + size * 0.04
        d.polygon([(lx, ly), (lx + size * 0.12, ly - size * 0.1),
                   (lx + size * 0.22, ly - size * 0.03), (lx + size * 0.1, ly + size * 0.02)],
                  fill=jitter(rng, (60, 130, 40)))
    return sprite


def render_citrus(rng: Rng, light: float) -> Image.Image:
    """Orange, mandarin or lemon: dimpled peel texture, navel dot."""
    size = 110
    kind = int(rng.integers(3))
    color = jitter(rng, ((240, 140, 20), (235, 110, 15), (240, 210, 50))[kind], 10)
    peel = 1 + 0.05 * smooth_noise(rng, size, size, 2) + 0.04 * smooth_noise(rng, size, size, 5)
    stretch = 0.78 if kind == 2 else 0.95

    def outline(theta: np.ndarray) -> np.ndarray:
        base = stretch / np.sqrt((stretch * np.sin(theta)) ** 2 + np.cos(theta) ** 2)
        if kind == 2:  # lemon tips at left and right
            base = base * (1 + 0.08 * np.exp(-(((np.abs(theta) - math.pi / 2) / 0.2) ** 2)))
        return np.minimum(base, 1.0)

    sprite = round_fruit(rng, size, color, light, outline, peel)
    if kind != 2:
        d = ImageDraw.Draw(sprite)
        cx, cy = size / 2 + size * rng.uniform(-0.1, 0.1), size * rng.uniform(0.12, 0.3)
        d.ellipse([cx - 4, cy - 3, cx + 4, cy + 3], fill=(90, 110, 40))
    return sprite


def render_banana(rng: Rng, light: float) -> Image.Image:
    """Banana: thick crescent, yellow with a darker inner edge, ridge and brown tips."""
    size = 150
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    cx, cy = size / 2, -size * 0.15
    radius = np.hypot(xx - cx, yy - cy)
    angle = np.arctan2(xx - cx, yy - cy)
    span = rng.uniform(0.75, 1.0)
    t = np.clip(angle / span * 0.5 + 0.5, 0, 1)
    mid = size * 0.62
    thick = size * 0.11 * np.sin(np.pi * t) ** 0.5 * (np.abs(angle) < span)
    across = (radius - mid) / np.maximum(thick, 1e-3)
    coverage = np.clip(thick - np.abs(radius - mid) + 0.5, 0, 1) * (thick > 1)
    ripe = jitter(rng, pick(rng, ((240, 205, 50), (230, 215, 70), (180, 190, 60))), 8)
    rgb = np.broadcast_to(np.array(ripe, np.float32), (size, size, 3)).copy()
    tips = (t < 0.06) | (t > 0.95)
    rgb[tips] = (90, 70, 35)
    ridge = np.exp(-(((across - 0.15) / 0.08) ** 2))
    shade = 0.55 + 0.45 * np.clip(1 - across**2, 0, 1) ** 0.5 + 0.1 * light * across
    rgb = rgb * (shade * (1 - 0.15 * ridge))[..., None]
    spots = smooth_noise(rng, size, size, 3) > 2.0
    rgb[spots] *= 0.6
    return to_rgba_image(rgb, coverage).crop((0, int(size * 0.3), size, size))


def render_egg_box(rng: Rng, light: float) -> Image.Image:
    """Open egg box: cardboard tray with cup bumps, a row of white or brown eggs, lid behind."""
    w = 160
    n = int(rng.integers(4, 7))
    step = 0.84 * w / n
    egg_d = int(step * 0.98)
    lid_h = int(0.3 * w)
    rim_y = lid_h + egg_d * 0.5
    tray_h = egg_d * 0.75
    h = int(rim_y + tray_h + egg_d * 0.2)
    board = jitter(rng, pick(rng, ((176, 172, 160), (200, 186, 150), (150, 170, 190))), 8)
    sprite = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(sprite)
    d.polygon([(0.05 * w, rim_y), (0.95 * w, rim_y), (0.99 * w, 0), (0.01 * w, 0)],
              fill=tuple(int(c * 0.78) for c in board))
    for i in range(n):  # the lid's egg cups, seen from inside
        ex = 0.08 * w + step * (i + 0.5)
        d.ellipse([ex - step * 0.4, lid_h * 0.15, ex + step * 0.4, lid_h * 0.75],
                  fill=tuple(int(c * 0.7) for c in board))
    egg = jitter(rng, pick(rng, ((244, 240, 230), (206, 150, 105), (226, 190, 150))), 8)
    for i in range(n):
        if rng.random() < 0.15:
            continue  # someone already ate one
        ex = 0.08 * w + step * (i + 0.5)
        egg_img = round_fruit(rng, egg_d, jitter(rng, egg, 5), light,
                                 lambda th: 0.8 / np.sqrt((0.8 * np.sin(th)) ** 2
                                                          + np.cos(th) ** 2),
                                 np.ones((egg_d, egg_d)))
        sprite.alpha_composite(egg_img, (int(ex - egg_d / 2), int(rim_y - egg_d * 0.62)))
    d.polygon([(0.03 * w, rim_y), (0.97 * w, rim_y), (0.94 * w, rim_y + tray_h),
               (0.06 * w, rim_y + tray_h)], fill=board)
    for i in range(n):
        ex = 0.08 * w + step * (i + 0.5)
        d.ellipse([ex - step * 0.44, rim_y + tray_h * 0.45, ex + step * 0.44, h - 1],
                  fill=tuple(int(c * (0.9 + 0.08 * light)) for c in board))
    d.line([(0.03 * w, rim_y), (0.97 * w, rim_y)], fill=tuple(min(255, int(c * 1.12))
                                                              for c in board), width=3)
    return sprite


def render_plate(rng: Rng, light: float) -> Image.Image:
    """Plate seen from the side: wide ellipse with a rim, a shaded well and a foot."""
    w = 170
    h = int(w * rng.uniform(0.3, 0.42))
    color = jitter(rng, pick(rng, ((245, 245, 242), (235, 230, 215), (60, 110, 170),
                                   (200, 80, 60))), 6)
    sprite = Image.new("RGBA", (w, h + 12), (0, 0, 0, 0))
    d = ImageDraw.Draw(sprite)
    d.ellipse([0.25 * w, h - 0.3 * h, 0.75 * w, h + 10], fill=tuple(int(c * 0.7) for c in color))
    d.ellipse([0, 0, w, h], fill=tuple(int(c * 0.85) for c in color))
    d.ellipse([2, 0, w - 2, h - 5], fill=color)
    well = (0.18 * w, 0.2 * h, 0.82 * w, 0.8 * h)
    d.ellipse(well, fill=tuple(int(c * (0.92 + 0.04 * light)) for c in color))
    d.arc(well, 190, 350, fill=tuple(int(c * 0.8) for c in color), width=3)
    if rng.random() < 0.5:  # decorated rim
        d.ellipse([0.05 * w, 0.06 * h, 0.95 * w, 0.92 * h],
                  outline=jitter(rng, pick(rng, ((40, 70, 150), (170, 140, 60)))), width=3)
    return sprite


def render_mug(rng: Rng, light: float) -> Image.Image:
    """Mug: matte-glazed cylinder with a side handle and dark coffee inside the rim."""
    w = 110
    h = int(w * rng.uniform(0.95, 1.15))
    e = w * 0.22
    glaze = jitter(rng, pick(rng, ((245, 245, 240), (30, 80, 160), (200, 50, 40), (240, 200, 60),
                                   (40, 40, 45), (90, 160, 120))), 8)
    tex, d = flat_texture(int(w * 1.6), h, glaze)
    if rng.random() < 0.5:  # stripes or dots
        accent = contrast_color(rng, glaze)
        for k in range(int(rng.integers(2, 5))):
            y = h * (0.3 + 0.15 * k)
            d.rectangle([0, y, w * 1.6, y + h * 0.04], fill=accent)
    hw = round_ends(np.full(h, w / 2 * 0.82), e, top=False, bottom=True)
    body = to_rgba_image(*lathe(hw, w, np.asarray(tex, np.float32), CERAMIC, light, e / 2))
    handle_w = int(w * 0.3)
    sprite = Image.new("RGBA", (w + handle_w, h + int(e / 2) + 1), (0, 0, 0, 0))
    d = ImageDraw.Draw(sprite)
    side = rng.random() < 0.5
    hx = w * 0.82 if side else handle_w * 0.05
    d.ellipse([hx, e / 2 + 0.2 * h, hx + w * 0.38, e / 2 + 0.75 * h],
              outline=tuple(int(c * 0.85) for c in glaze), width=int(w * 0.08))
    sprite.alpha_composite(body, (0 if side else handle_w, int(e / 2)))
    x0 = (0 if side else handle_w) + w * 0.09
    rim = (x0, 0, x0 + w * 0.82, e)
    d.ellipse(rim, fill=tuple(min(255, int(c * 1.05)) for c in glaze))
    inset = w * 0.04
    drink = pick(rng, ((60, 36, 22), (120, 80, 50), (230, 225, 215)))
    d.ellipse([rim[0] + inset, inset * 0.6, rim[2] - inset, e - inset * 0.4], fill=drink)
    return sprite


def render_cereal_box(rng: Rng, light: float) -> Image.Image:
    """Cereal box: tall flat-topped box, loud front with a bowl picture and a big name."""
    wf = 110
    ws = int(wf * rng.uniform(0.2, 0.3))
    hb = int(wf * rng.uniform(1.3, 1.6))
    rise = int(ws * 0.45)
    color = jitter(rng, pick(rng, ((240, 200, 30), (210, 40, 40), (40, 90, 190), (60, 160, 70),
                                   (240, 120, 30))), 10)
    accent = contrast_color(rng, color)
    front, d = flat_texture(wf, hb, color)
    draw_word(d, pick(rng, ("CRUNCH", "OATS", "FLAKES", "MUESLI", "CORN")), (wf / 2, 0.2 * hb),
              0.86 * wf, 0.14 * hb, accent)
    d.ellipse([0.12 * wf, 0.5 * hb, 0.88 * wf, 0.9 * hb], fill=(250, 250, 248))
    d.chord([0.12 * wf, 0.55 * hb, 0.88 * wf, 0.95 * hb], 0, 180, fill=accent)
    flakes = jitter(rng, (210, 160, 80), 20)
    for _ in range(25):
        fx, fy = rng.uniform(0.2, 0.8) * wf, rng.uniform(0.6, 0.75) * hb
        d.ellipse([fx - 8, fy - 5, fx + 8, fy + 5], fill=jitter(rng, flakes))
    side, d = flat_texture(ws, hb, tuple(int(c * 0.9) for c in color))
    text_lines(d, rng, (0.1 * ws, 0.3 * hb, 0.9 * ws, 0.7 * hb), accent, 12)
    front_k, side_k, top_k = face_light(light)
    sprite, top = box_sprite(shade_image(front, front_k), shade_image(side, side_k), rise, 1)
    ImageDraw.Draw(sprite).polygon(
        [(0, top), (wf, top), (wf + ws, top - rise), (ws, top - rise)],
        fill=tuple(int(min(255, c * top_k)) for c in color))
    return sprite


def render_butter(rng: Rng, light: float) -> Image.Image:
    """Butter block: low wide box wrapped in gold foil or printed paper."""
    wf = 150
    ws = int(wf * rng.uniform(0.25, 0.35))
    hb = int(wf * rng.uniform(0.3, 0.4))
    rise = int(ws * 0.6)
    wrap = jitter(rng, pick(rng, ((214, 178, 80), (246, 232, 160), (240, 240, 236))), 8)
    ink = pick(rng, ((30, 70, 150), (180, 30, 40), (40, 110, 50)))
    front, d = flat_texture(wf, hb, wrap)
    draw_word(d, pick(rng, ("BUTTER", "BEURRE", "BUTTER")), (wf / 2, hb / 2), 0.7 * wf,
              0.45 * hb, ink)
    side, _ = flat_texture(ws, hb, wrap)
    crinkle = 1 + 0.05 * smooth_noise(rng, hb, wf, 5)
    front = Image.fromarray(np.clip(np.asarray(front) * crinkle[..., None], 0, 255)
                            .astype(np.uint8))
    front_k, side_k, top_k = face_light(light)
    sprite, top = box_sprite(shade_image(front, front_k), shade_image(side, side_k), rise, 1)
    d = ImageDraw.Draw(sprite)
    d.polygon([(0, top), (wf, top), (wf + ws, top - rise), (ws, top - rise)],
              fill=tuple(int(min(255, c * top_k)) for c in wrap))
    d.line([(ws * 0.5, top - rise * 0.5), (wf + ws * 0.5, top - rise * 0.5)],
           fill=tuple(int(c * 0.85) for c in wrap), width=2)
    return sprite


NEGATIVE_RENDERERS: dict[str, Renderer] = {
    "apple": render_apple, "citrus": render_citrus, "banana": render_banana,
    "egg_box": render_egg_box, "plate": render_plate, "mug": render_mug,
    "cereal_box": render_cereal_box, "butter": render_butter, "jar": render_jar,
}


# --------------------------------------------------------------------------- backgrounds


@dataclass
class Scene:
    """A background being filled with objects, and where on it things can stand."""

    image: Image.Image
    floor: tuple[float, float]  # range of y where an object's base may rest
    light: float  # horizontal light direction, -1 (from the left) .. 1 (from the right)


def vertical_gradient(top: RGB, bottom: RGB, height: int, width: int) -> np.ndarray:
    """Float rgb array fading from ``top`` to ``bottom``: the room's light falling off."""
    t = np.linspace(0, 1, height)[:, None, None]
    col = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    return np.broadcast_to(col, (height, width, 3)).copy()


def to_rgb_image(arr: np.ndarray) -> Image.Image:
    """Float rgb array (0..255) to a PIL RGB image."""
    return Image.fromarray(np.round(np.clip(arr, 0, 255)).astype(np.uint8), "RGB")


def background_fridge(rng: Rng) -> tuple[Image.Image, tuple[float, float]]:
    """Inside of a fridge: ribbed white back wall, side walls, glass shelf with a bright edge."""
    c = SIZE
    wall = jitter(rng, pick(rng, ((232, 238, 240), (240, 240, 236), (220, 228, 236))), 6)
    shelf_front = c * rng.uniform(0.78, 0.9)
    shelf_back = shelf_front - c * rng.uniform(0.1, 0.16)
    arr = vertical_gradient(tuple(int(v * 0.82) for v in wall), wall, c, c)
    ribs = np.sin(np.arange(c) / c * 2 * math.pi * rng.integers(6, 12)) > 0.9
    arr[ribs] *= 0.95
    img = to_rgb_image(arr)
    d = ImageDraw.Draw(img)
    side = c * rng.uniform(0.06, 0.14)
    side_color = tuple(int(v * 0.86) for v in wall)
    d.polygon([(0, 0), (side, side * 0.8), (side, shelf_back), (0, shelf_front)], fill=side_color)
    d.polygon([(c, 0), (c - side, side * 0.8), (c - side, shelf_back), (c, shelf_front)],
              fill=tuple(int(v * 0.92) for v in wall))
    glass = jitter(rng, (214, 230, 226), 6)
    d.polygon([(side, shelf_back), (c - side, shelf_back), (c, shelf_front), (0, shelf_front)],
              fill=glass)
    edge = c * 0.025
    d.rectangle([0, shelf_front, c, shelf_front + edge], fill=(196, 222, 214))
    d.line([(0, shelf_front), (c, shelf_front)], fill=(250, 255, 252), width=2)
    d.rectangle([0, shelf_front + edge, c, c], fill=tuple(int(v * 0.62) for v in wall))
    for _ in range(int(rng.integers(0, 4))):  # things on the shelf below, out of focus
        x = rng.uniform(0, c)
        d.rounded_rectangle([x, shelf_front + edge * 2, x + c * rng.uniform(0.1, 0.25), c + 10],
                            radius=10, fill=jitter(rng, pick(rng, PAINTS), 30))
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    return img, (shelf_back + (shelf_front - shelf_back) * 0.35, shelf_front - 2)


def background_wood(rng: Rng) -> tuple[Image.Image, tuple[float, float]]:
    """Painted wall above a wooden table whose planks run towards the viewer."""
    c = SIZE
    horizon = c * rng.uniform(0.3, 0.55)
    paint = jitter(rng, pick(rng, ((226, 222, 210), (200, 214, 222), (232, 226, 200),
                                   (190, 200, 190), (236, 236, 236))), 8)
    arr = vertical_gradient(tuple(int(v * 0.85) for v in paint), paint, c, c)
    wood = np.array(jitter(rng, pick(rng, ((168, 116, 66), (196, 150, 100), (122, 82, 48),
                                           (210, 178, 134))), 10), np.float32)
    yy, xx = np.mgrid[0:c, 0:c].astype(np.float32)
    dist = np.maximum(yy - horizon, 1.0)
    across = (xx - c / 2) / (dist + c * 0.25) * c * 0.5  # plank coordinate, perspective
    plank = c * rng.uniform(0.18, 0.3)
    index = np.floor(across / plank)
    along = 1 / (dist + c * 0.25) * c * 50
    grain = np.sin(across * 0.9 + 2.5 * np.sin(along * 0.04 + index * 1.7) + index * 11)
    plank_tone = 1 + 0.08 * np.sin(index * 12.9898)
    seam = (across / plank - index) < 0.035
    table = wood * (plank_tone * (1 + 0.07 * grain) * (1 - 0.45 * seam))[..., None]
    table *= (0.8 + 0.25 * (yy / c))[..., None]
    arr = np.where((yy > horizon)[..., None], table, arr)
    img = to_rgb_image(arr).filter(ImageFilter.GaussianBlur(0.4))
    return img, (horizon + (c - horizon) * 0.25, c * 0.95)


def background_tiles(rng: Rng) -> tuple[Image.Image, tuple[float, float]]:
    """Kitchen splashback: glossy square or subway tiles above a speckled stone counter."""
    c = SIZE
    horizon = c * rng.uniform(0.45, 0.7)
    tile_h = c * rng.uniform(0.08, 0.16)
    subway = rng.random() < 0.5
    tile_w = tile_h * (2 if subway else 1)
    tile = np.array(jitter(rng, pick(rng, ((240, 240, 236), (200, 224, 232), (180, 206, 190),
                                           (40, 60, 90), (230, 214, 190))), 8), np.float32)
    grout = np.array(jitter(rng, (180, 180, 176), 20), np.float32)
    yy, xx = np.mgrid[0:c, 0:c].astype(np.float32)
    row = np.floor(yy / tile_h)
    shifted = xx + (row % 2) * tile_w / 2 * subway
    fx, fy = shifted / tile_w % 1, yy / tile_h % 1
    tone = 1 + 0.04 * np.sin(row * 7.1 + np.floor(shifted / tile_w) * 3.3)
    gloss = 1 + 0.08 * (1 - fx - fy)
    is_grout = (fx < 0.03) | (fy < 0.05 / (2 if subway else 1) * 2)
    wall = np.where(is_grout[..., None], grout, tile * (tone * gloss)[..., None])
    stone = np.array(jitter(rng, pick(rng, ((70, 70, 74), (210, 206, 200), (150, 140, 128),
                                            (30, 30, 34))), 10), np.float32)
    speckle = rng.standard_normal((c, c)) > 1.8
    counter = stone * (1 + 0.25 * speckle - 0.1 * (rng.standard_normal((c, c)) > 2.2))[..., None]
    arr = np.where((yy > horizon)[..., None], counter, wall)
    img = to_rgb_image(arr).filter(ImageFilter.GaussianBlur(0.5))
    ImageDraw.Draw(img).line([(0, horizon), (c, horizon)], fill=(235, 235, 232), width=2)
    return img, (horizon + (c - horizon) * 0.3, c * 0.95)


def background_plain(rng: Rng) -> tuple[Image.Image, tuple[float, float]]:
    """Studio-style smooth gradient, the kind of backdrop product photos use."""
    c = SIZE
    top = jitter(rng, pick(rng, ((230, 230, 230), (200, 210, 225), (240, 228, 210),
                                 (90, 95, 110), (210, 225, 210))), 20)
    bottom = tuple(int(v * rng.uniform(0.6, 0.95)) for v in top)
    return to_rgb_image(vertical_gradient(top, bottom, c, c)), (c * 0.6, c * 0.95)


def background_clutter(rng: Rng) -> tuple[Image.Image, tuple[float, float]]:
    """A busy kitchen behind the subject, blurred as a shallow depth of field would do."""
    c = SIZE
    base = jitter(rng, pick(rng, ((190, 180, 165), (160, 170, 180), (210, 205, 195))), 20)
    img = to_rgb_image(vertical_gradient(base, tuple(int(v * 0.7) for v in base), c, c))
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(8, 16))):
        x, y = rng.uniform(-0.1, 1.0) * c, rng.uniform(-0.1, 0.8) * c
        w, h = rng.uniform(0.08, 0.35) * c, rng.uniform(0.08, 0.4) * c
        color = jitter(rng, pick(rng, (*PAINTS, (240, 240, 240), (120, 90, 60))), 30)
        if rng.random() < 0.5:
            d.ellipse([x, y, x + w, y + h], fill=color)
        else:
            d.rectangle([x, y, x + w, y + h], fill=color)
    img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(2.5, 6))))
    counter_y = c * rng.uniform(0.6, 0.75)
    counter = Image.new("RGB", (c, c - int(counter_y)),
                        jitter(rng, pick(rng, ((220, 216, 208), (120, 110, 100))), 15))
    img.paste(counter, (0, int(counter_y)))
    return img, (counter_y + c * 0.05, c * 0.95)


BACKGROUNDS = (background_fridge, background_fridge,  # listed twice: the most common setting
               background_wood, background_tiles, background_plain, background_clutter)


def new_scene(rng: Rng) -> Scene:
    """A random background (fridge shelves most often) and a light direction for the shot."""
    image, floor = pick(rng, BACKGROUNDS)(rng)
    return Scene(image, floor, float(rng.uniform(-0.8, 0.8)))


# --------------------------------------------------------------------------- composition


def tight(sprite: Image.Image) -> Image.Image:
    """Crop a sprite to its visible pixels, so its bottom edge is where it touches the floor."""
    box = sprite.getchannel("A").getbbox()
    return sprite.crop(box) if box else sprite


def place(scene: Scene, sprite: Image.Image, cx: float, base_y: float, height: float,
          angle: float) -> tuple[float, float, float, float]:
    """Scale, tilt and stand ``sprite`` at (cx, base_y) with a contact shadow and a soft shadow
    cast away from the light. Returns the object's box on the canvas."""
    sprite = tight(sprite)
    scale = height / sprite.height
    sprite = sprite.resize((max(1, round(sprite.width * scale)), max(1, round(height))),
                           Image.Resampling.LANCZOS)
    sprite = tight(sprite.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True))
    x0, y0 = round(cx - sprite.width / 2), round(base_y - sprite.height)
    c = SIZE
    alpha = sprite.getchannel("A")
    shadow = Image.new("L", (c, c), 0)
    cast = alpha.point(lambda a: int(a * 0.45))
    shadow.paste(cast, (x0 - round(scene.light * 0.1 * height), y0 - round(0.03 * height)), cast)
    shadow = shadow.filter(ImageFilter.GaussianBlur(max(2.0, 0.04 * height)))
    contact = Image.new("L", (c, c), 0)
    half_w = sprite.width * 0.45
    ImageDraw.Draw(contact).ellipse([cx - half_w, base_y - 0.06 * half_w, cx + half_w,
                                     base_y + 0.1 * half_w], fill=130)
    contact = contact.filter(ImageFilter.GaussianBlur(max(2.0, 0.015 * height)))
    darkness = Image.fromarray(np.maximum(np.asarray(shadow), np.asarray(contact)), "L")
    scene.image.paste((20, 20, 24), (0, 0, c, c), darkness)
    scene.image.paste(sprite, (x0, y0), sprite)
    return x0, y0, x0 + sprite.width, y0 + sprite.height


def pose_angle(rng: Rng) -> float:
    """Lean of one object in degrees: a little, as things standing on a shelf do."""
    return float(np.clip(rng.normal(0, 3), -8, 8))


def camera_roll(image: Image.Image, degrees: float) -> Image.Image:
    """Rotate the whole shot (a hand-held camera), zooming in just enough to hide the corners."""
    if abs(degrees) < 0.5:
        return image
    rad = math.radians(abs(degrees))
    zoom = math.cos(rad) + math.sin(rad)
    turned = image.rotate(degrees, resample=Image.Resampling.BICUBIC)
    margin = SIZE * (1 - 1 / zoom) / 2
    return turned.resize((SIZE, SIZE), Image.Resampling.BICUBIC,
                         box=(margin, margin, SIZE - margin, SIZE - margin))


def fitted_height(sprite: Image.Image, want: float, max_w: float, top_room: float) -> float:
    """The wanted on-canvas height, reduced so the object fits its slot and stays in frame."""
    box = tight(sprite)
    aspect = box.width / box.height
    return max(0.15 * SIZE, min(want, max_w / aspect, top_room))


def add_distractor(scene: Scene, rng: Rng, subject: str | None = None) -> None:
    """Another item further back, so the subject is not alone in a sterile world.

    With a ``subject`` class, the item is sometimes one of the other classes, as in a real
    fridge: the label names the item in front, and the model must learn which one that is."""
    others = [k for k in CLASSES if k != subject]
    if subject is not None and rng.random() < OTHER_CLASS_SHARE:
        sprite = CLASS_RENDERERS[pick(rng, others)](rng, scene.light)
    else:
        sprite = NEGATIVE_RENDERERS[pick(rng, tuple(NEGATIVE_RENDERERS))](rng, scene.light)
    c = SIZE
    base = scene.floor[0] + rng.uniform(0, 0.2) * (scene.floor[1] - scene.floor[0])
    height = fitted_height(sprite, c * rng.uniform(0.18, 0.36), c * 0.35, base - 0.02 * c)
    cx = c * pick(rng, (rng.uniform(0.0, 0.2), rng.uniform(0.8, 1.0)))
    place(scene, sprite, cx, base, height, pose_angle(rng) / 2)


def add_occluder(scene: Scene, rng: Rng, box: tuple[float, float, float, float]) -> None:
    """Partly hide the subject behind something nearer the camera (at most about a third)."""
    kind = pick(rng, ("apple", "citrus", "mug", "egg_box", "banana", "butter"))
    sprite = NEGATIVE_RENDERERS[kind](rng, scene.light)
    x0, y0, x1, y1 = box
    height = (y1 - y0) * rng.uniform(0.3, 0.5)
    height = fitted_height(sprite, height, (x1 - x0) * 0.9, SIZE)
    side = x0 if rng.random() < 0.5 else x1
    place(scene, sprite, side + rng.uniform(-0.1, 0.1) * (x1 - x0),
          y1 + SIZE * rng.uniform(0.02, 0.08), height, pose_angle(rng) / 2)


@lru_cache(maxsize=1)
def radius_squared() -> np.ndarray:
    """Squared distance of each pixel from the image centre (image width = 1), for vignetting."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE - 0.5
    return (xx**2 + yy**2).astype(np.float32)


def finish(scene: Scene, rng: Rng, max_roll: float) -> Image.Image:
    """Apply the camera: roll (up to ``max_roll`` degrees), exposure, contrast, white balance,
    vignette, noise."""
    img = camera_roll(scene.image, float(np.clip(rng.normal(0, max_roll / 4), -max_roll,
                                                 max_roll)))
    if rng.random() < 0.1:  # slightly out of focus
        img = img.filter(ImageFilter.GaussianBlur(0.7))
    arr = np.asarray(img, np.float32)
    mean = arr.mean()
    arr = (arr - mean) * rng.uniform(0.75, 1.15) + mean
    warmth = rng.uniform(-1, 1)  # white balance: tungsten to shade
    arr *= rng.uniform(0.6, 1.15) * np.array([1 + 0.12 * warmth, 1, 1 - 0.12 * warmth])
    arr *= (1 - rng.uniform(0, 0.5) * radius_squared())[..., None]
    arr += rng.normal(0, rng.uniform(0.8, 2.5), (SIZE, SIZE, 1))
    return to_rgb_image(arr)


# --------------------------------------------------------------------------- the three sets


def single_image(rng: Rng, cls: str) -> Image.Image:
    """One container of class ``cls``, posed somewhere on a random background."""
    scene = new_scene(rng)
    c = SIZE
    for _ in range(int(rng.choice([0, 1, 2], p=DISTRACTORS))):
        add_distractor(scene, rng, cls)
    sprite = CLASS_RENDERERS[cls](rng, scene.light)
    base = rng.uniform(*scene.floor)
    height = fitted_height(sprite, c * rng.uniform(*SUBJECT_HEIGHT), c * 0.85, base - 0.03 * c)
    cx = c * rng.uniform(0.3, 0.7)
    if rng.random() < 0.1:  # cut by the frame edge
        cx = c * pick(rng, (0.14, 0.86))
    box = place(scene, sprite, cx, base, height, pose_angle(rng))
    if rng.random() < OCCLUSION_CHANCE:
        add_occluder(scene, rng, box)
    return finish(scene, rng, max_roll=20)


def row_of_objects(rng: Rng, renderers: list[Renderer]) -> Image.Image:
    """Several objects side by side on one background, each in its own slot, none hidden."""
    scene = new_scene(rng)
    c = SIZE
    slot = c * 0.92 / max(len(renderers), 1)
    base = rng.uniform(*scene.floor)
    for i, render in enumerate(renderers):
        sprite = render(rng, scene.light)
        this_base = base + rng.uniform(-0.02, 0.02) * c
        height = fitted_height(sprite, c * rng.uniform(0.4, 0.7), slot * 0.9,
                               this_base - 0.03 * c)
        cx = c * 0.04 + slot * (i + 0.5) + rng.uniform(-0.04, 0.04) * slot
        place(scene, sprite, cx, this_base, height, pose_angle(rng))
    return finish(scene, rng, max_roll=10)  # small roll: objects near the edges stay in view


def multi_image(rng: Rng) -> tuple[Image.Image, list[str]]:
    """One to three different containers in a row, with every one present in the labels."""
    count = int(rng.choice([1, 2, 3], p=[0.2, 0.45, 0.35]))
    classes = [str(x) for x in rng.permutation(CLASSES)[:count]]
    image = row_of_objects(rng, [CLASS_RENDERERS[cls] for cls in classes])
    return image, sorted(classes)


def negative_image(rng: Rng) -> Image.Image:
    """Zero to three kitchen things that are none of the four classes (hard negatives)."""
    count = int(rng.choice([0, 1, 2, 3], p=[0.1, 0.45, 0.3, 0.15]))
    kinds = [str(x) for x in rng.permutation(list(NEGATIVE_RENDERERS))[:count]]
    return row_of_objects(rng, [NEGATIVE_RENDERERS[kind] for kind in kinds])


def save_jpeg(image: Image.Image, path: Path) -> None:
    """JPEG as a phone would save it; same Pillow + same pixels gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)


def write_fridge4(out: Path, seed: int) -> None:
    """``fridge4/<class>/<class>_NN.jpg``: single-label, folder per class."""
    for k, cls in enumerate(CLASSES):
        for i in range(SINGLE_PER_CLASS):
            rng = rng_for(seed, "fridge4", k * 1000 + i)
            save_jpeg(single_image(rng, cls), out / "fridge4" / cls / f"{cls}_{i + 1:03d}.jpg")


def write_multilabel(out: Path, seed: int) -> None:
    """``fridge-multilabel/images/*.jpg`` plus ``labels.csv`` (space-separated labels)."""
    root = out / "fridge-multilabel"
    rows = []
    for i in range(MULTI_COUNT):
        image, labels = multi_image(rng_for(seed, "fridge-multilabel", i))
        name = f"img_{i + 1:04d}.jpg"
        save_jpeg(image, root / "images" / name)
        rows.append((name, " ".join(labels)))
    with (root / "labels.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("filename", "labels"))
        writer.writerows(rows)


def write_negatives(out: Path, seed: int) -> None:
    """``fridge-negatives/neg_NNNN.jpg``: none of the four classes."""
    for i in range(NEGATIVE_COUNT):
        image = negative_image(rng_for(seed, "fridge-negatives", i))
        save_jpeg(image, out / "fridge-negatives" / f"neg_{i + 1:04d}.jpg")


WRITERS: dict[str, Callable[[Path, int], None]] = {
    "fridge4": write_fridge4, "fridge-multilabel": write_multilabel,
    "fridge-negatives": write_negatives,
}


def readme_text(seed: int) -> str:
    """What the sample data is, what it is good for, and how to use real photos instead."""
    classes = ", ".join(f"`{c}`" for c in CLASSES)
    return f"""# Sample data (synthetic)

Every image here is **procedurally rendered** by `scripts/make_sample_data.py` (seed {seed}):
drawn from scratch with PIL and numpy, not copied from or derived from any photo data set.
It imitates the classic "fridgeObjects" tutorial set: its four classes
({classes}) on fridge shelves, wooden tables, tiled kitchens, plain and
cluttered backdrops, with varied colors, light, white balance, blur, camera roll (up to
±20°), scale, position, partial occlusion, other items behind the subject (sometimes one of
the other classes) and JPEG compression ({SIZE}x{SIZE} RGB, quality {JPEG_QUALITY}).

It is made to be **as hard as real photos**, so the tutorial has something to teach: milk
and water bottles share their shape, caps and labels and differ in what is inside, and some
shots are dim, blurred, small or half hidden. The workshop presets score about 80-90 % in
quick mode (not 100 %), the mistakes are mostly milk and water bottles taken for each other,
and settings make a visible difference (`bench/sample_data.py` prints the figures).

- `fridge4/<class>/*.jpg`: single-label, one folder per class, {SINGLE_PER_CLASS} per class
  ({SINGLE_PER_CLASS * len(CLASSES)} in all).
- `fridge-multilabel/images/*.jpg` + `fridge-multilabel/labels.csv`: {MULTI_COUNT} images
  with 1-3 different containers side by side; `labels.csv` has a `filename,labels` header
  and space-separated labels, e.g. `img_0001.jpg,can milk_bottle`.
- `fridge-negatives/*.jpg`: {NEGATIVE_COUNT} images of other kitchen things that are none of
  the four classes (fruit, egg boxes, plates, mugs, cereal boxes, butter, jars, empty shelves),
  for hard-negative mining.

## Good for

- Running every page of the studio offline in seconds: load a data set, train quickly,
  evaluate, predict, export, serve, multi-label thresholds, hard-negative mining.
- Demos and smoke tests that must not download anything.

## Not good for

- Judging real accuracy. These are synthetic pictures: simpler shapes, textures and
  lighting than a camera sees, made hard on purpose in a few chosen ways. A model that
  does well here can still fail on real photos, and real photos behave differently
  (reflections, clutter, motion blur, odd angles, sensor noise).

## Using real data instead

- **fridgeObjects**: the original tutorial set was published by Microsoft's
  `computervision-recipes` project. Download the zip yourself on a connected machine,
  then upload the zip in the app, or unzip it and point the app at the folder.
- **Your own photos**: a folder per class (`<root>/<class>/*.jpg`), or a multi-label
  `labels.csv` + `images/` folder, or a `.zip` of either.

## Regenerate

```bash
.venv/bin/python scripts/make_sample_data.py --out sample_data --seed {seed}
```

The output is deterministic for a seed (same Pillow and numpy give the same files);
`--only fridge4|fridge-multilabel|fridge-negatives` re-renders one part.
"""


def main(argv: list[str] | None = None) -> None:
    """Render the requested parts (all by default) into ``--out`` and write its README."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("sample_data"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=PARTS, action="append",
                        help="render only this part (repeatable); default: all")
    args = parser.parse_args(argv)
    for part in args.only or PARTS:
        shutil.rmtree(args.out / part, ignore_errors=True)  # no stale files from older runs
        WRITERS[part](args.out, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "README.md").write_text(readme_text(args.seed), encoding="utf-8")


if __name__ == "__main__":
    main()
