"""Hostile input to backgrounds, annotations, folders and the reader (issue 13, input side).

Each case is a row: what it feeds to which function, and the error it must raise (class and
the words naming the parameter or file) or the value it must return. Every row runs in a
child interpreter under a time limit and, where the input could make it allocate, a memory
limit (see ``tests/_hostile.py``), so a regression fails the row instead of hanging or
exhausting the test machine.
"""

from __future__ import annotations

import base64
import json
import os
import re
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from _hostile import RaisingToJson, Touch, assert_outcome, closed_port, hostile_server, run_isolated

BG = "napari_heatmap._background:load_background"
ANN = "napari_heatmap.supervisely:load_annotation"
META = "napari_heatmap.supervisely:load_meta"
DENSITY = "_hostile:density_max"
CLAIMS = "_hostile:claims"
OPEN = "_hostile:open_in_viewer_model"
MASK = "napari_heatmap._launcher:load_mask"
RGBA = "napari_heatmap:mask_to_rgba"
MiB = 1 << 20
pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="child limits use /proc and RLIMIT_AS; cases use FIFOs"
)
FAST = {"napari_heatmap._background.URL_TIMEOUT": 1.0}
READER = ("napari_heatmap._reader",)  # imported before the memory limit is set


@dataclass(frozen=True)
class Ctx:
    """What a case's `make` may use: a fresh folder and the hostile server's base URL."""

    tmp: Path
    url: str


@dataclass(frozen=True)
class Case:
    """One row: call `func` with `make(ctx)`; expect `error` matching `match`, else `check`."""

    id: str
    func: str
    make: Callable[[Ctx], tuple[Any, ...]]
    error: str | None
    match: str | None = None
    check: Callable[[Any], bool] | None = None
    seconds: float = 30.0
    within: float | None = None
    memory: int | None = 512 * MiB
    patch: dict[str, Any] = field(default_factory=dict)
    warns: str | None = None
    imports: tuple[str, ...] = ()


# --------------------------------------------------------------------------- inputs


def png(img: np.ndarray) -> bytes:
    return cv2.imencode(".png", img)[1].tobytes()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bomb(width: int, height: int, decodable: bool) -> bytes:
    """A gray PNG of `width` x `height` zeros: a real one, or a header over junk."""
    if decodable:
        z = zlib.compressobj(9)
        row = b"\0" * (width + 1)
        idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    else:
        idat = zlib.compress(b"\0" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


SMALL = png(np.full((3, 4, 3), (255, 0, 0), np.uint8))  # BGR: blue in RGB order
DATA = base64.b64encode(SMALL).decode()


def write(ctx: Ctx, name: str, data: bytes | str) -> str:
    path = ctx.tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def ann_json(h: Any = 20, w: Any = 30, objects: list[Any] | None = None) -> str:
    return json.dumps({"size": {"height": h, "width": w}, "objects": objects or []})


def point(x: int, y: int, cls: str = "car") -> dict[str, Any]:
    return {
        "classTitle": cls,
        "geometryType": "point",
        "points": {"exterior": [[x, y]], "interior": []},
    }


def sparse(ctx: Ctx, name: str, size: int) -> str:
    path = ctx.tmp / name
    with open(path, "wb") as f:
        f.truncate(size)
    return str(path)


def fifo(ctx: Ctx, name: str) -> str:
    path = ctx.tmp / name
    os.mkfifo(path)
    return str(path)


def zigzag_line(n: int) -> dict[str, Any]:
    xs = np.linspace(0, 999, n).round().astype(int)
    ys = np.where(np.arange(n) % 2 == 0, -20, 20)
    return {
        "classTitle": "road",
        "geometryType": "line",
        "points": {"exterior": np.c_[xs, ys].tolist(), "interior": []},
    }


def symlink_loop_project(ctx: Ctx) -> tuple[str]:
    project = ctx.tmp / "project"
    write(
        ctx,
        "project/meta.json",
        json.dumps({"classes": [{"title": "car", "shape": "point", "color": "#FF0000"}]}),
    )
    write(ctx, "project/ds/ann/a.png.json", ann_json(4, 4, [point(1, 1)]))
    (project / "ds" / "datasets").mkdir()
    os.symlink("..", project / "ds" / "datasets" / "child")
    os.symlink("../ds", project / "ds" / "datasets" / "again")
    return (str(project),)


def big_annotation(ctx: Ctx) -> tuple[str]:
    """About 24 MB of a valid annotation: parsing it whole would take ~250 MB."""
    obj = json.dumps(
        {
            "classTitle": "c",
            "geometryType": "polygon",
            "points": {"exterior": [[i, i + 1] for i in range(200)], "interior": []},
        }
    )
    body = ",".join([obj] * (24 * MiB // len(obj)))
    head = '{"description": "", "tags": [], "size": {"height": 900, "width": 900}, "objects": ['
    return (write(ctx, "big.json", head + body + "]}"),)


def big_other_json(ctx: Ctx) -> tuple[str]:
    (path,) = big_annotation(ctx)
    text = Path(path).read_text().replace('"size"', '"sighs"', 1)
    return (write(ctx, "other.json", text),)


def npy_pickle(ctx: Ctx) -> tuple[str]:
    path = ctx.tmp / "mask.npy"
    np.save(path, np.array([Touch(str(ctx.tmp / "unpickled"))], dtype=object), allow_pickle=True)
    return (str(path),)


# --------------------------------------------------------------------------- the table

CASES = [
    # backgrounds: URLs and paths
    Case(
        "DATA-url-upper-case",
        BG,
        lambda c: ("DATA:image/png;BASE64," + DATA,),
        None,
        check=lambda v: v.shape == (3, 4, 3) and v[0, 0].tolist() == [0, 0, 255],
    ),
    Case(
        "Http-url-mixed-case",
        BG,
        lambda c: (c.url.replace("http", "HtTp", 1) + "/png",),
        None,
        check=lambda v: v.shape == (3, 4, 3),
    ),
    Case(
        "path-5000-characters",
        BG,
        lambda c: ("/tmp/" + "x" * 5000 + ".png",),
        "ValueError",
        "background_image.*too long",
    ),
    Case(
        "path-deep-5000-characters",
        BG,
        lambda c: ("/".join(["d" * 200] * 25) + ".png",),
        "ValueError",
        "background_image.*too long",
    ),
    Case("path-null-byte", BG, lambda c: ("bad\0name.png",), "ValueError", "background_image"),
    Case(
        "url-malformed-ipv6",
        BG,
        lambda c: ("http://[::1",),
        "ValueError",
        "background_image.*malformed URL",
    ),
    Case(
        "url-unsupported-scheme",
        BG,
        lambda c: ("ftp://127.0.0.1/x.png",),
        "ValueError",
        "background_image.*scheme",
    ),
    Case(
        "url-dead",
        BG,
        lambda c: (f"http://127.0.0.1:{closed_port()}/x.png",),
        "ValueError",
        "background_image.*cannot download",
        within=5,
    ),
    Case("url-404", BG, lambda c: (c.url + "/missing",), "ValueError", "background_image.*404"),
    Case(
        "url-trickles-headers",
        BG,
        lambda c: (c.url + "/trickle-headers",),
        "ValueError",
        "background_image.*took more than 1 s",
        patch=FAST,
        within=3,
        seconds=20,
    ),
    Case(
        "url-trickles-body",
        BG,
        lambda c: (c.url + "/trickle-body",),
        "ValueError",
        "background_image.*took more than 1 s",
        patch=FAST,
        within=3,
        seconds=20,
    ),
    Case(
        "url-announces-30-GB",
        BG,
        lambda c: (c.url + "/huge",),
        "ValueError",
        r"background_image.*30000000000 bytes",
        within=2,
        memory=128 * MiB,
    ),
    Case(
        "url-endless",
        BG,
        lambda c: (c.url + "/endless",),
        "ValueError",
        "background_image.*larger than",
        patch={"napari_heatmap._background.MAX_IMAGE_BYTES": MiB},
        within=5,
        memory=256 * MiB,
    ),
    Case(
        "file-30-GB-sparse",
        BG,
        lambda c: (sparse(c, "huge.png", 30 * 10**9),),
        "ValueError",
        r"background_image.*30000000000 bytes, more than",
        within=2,
        memory=128 * MiB,
    ),
    Case(
        "file-empty",
        BG,
        lambda c: (write(c, "empty.png", b""),),
        "ValueError",
        "background_image.*empty",
    ),
    Case(
        "file-fifo",
        BG,
        lambda c: (fifo(c, "fifo.png"),),
        "ValueError",
        "background_image.*not a regular file",
        within=2,
    ),
    Case(
        "data-url-too-long",
        BG,
        lambda c: ("data:image/png;base64," + "A" * (2 * MiB),),
        "ValueError",
        "background_image.*data: URL holds",
        patch={"napari_heatmap._background.MAX_IMAGE_BYTES": MiB},
    ),
    # backgrounds: decompression bombs (the pixel budget is read from the header)
    Case(
        "png-bomb-header-100000x100000",
        BG,
        lambda c: (write(c, "bomb.png", png_bomb(100_000, 100_000, False)),),
        "ValueError",
        r"background_image.*too large: .*100000x100000 PNG.*more than the 134217728 pixels",
        memory=256 * MiB,
    ),
    Case(
        "png-bomb-16000x9000-under-opencv-cap",
        BG,
        lambda c: (write(c, "bomb.png", png_bomb(16_000, 9_000, True)),),
        "ValueError",
        r"background_image.*too large: .*16000x9000 PNG",
        within=2,
        memory=256 * MiB,
    ),
    Case(
        "png-bomb-as-data-url",
        BG,
        lambda c: (
            "data:image/png;base64," + base64.b64encode(png_bomb(100_000, 100_000, False)).decode(),
        ),
        "ValueError",
        "background_image: 'data: URL' is too large",
        memory=256 * MiB,
    ),
    Case(
        "unknown-format-refused",
        BG,
        lambda c: (write(c, "x.exr", b"v/1\x01" + b"\0" * 64),),
        "ValueError",
        "background_image.*not an image that can be read safely.*can be checked",
    ),
    # annotations
    Case(
        "annotation-with-BOM",
        ANN,
        lambda c: (write(c, "a.json", "\ufeff" + ann_json(objects=[point(1, 1)])),),
        None,
        check=lambda a: a.img_size == (20, 30) and len(a.labels) == 1,
    ),
    Case(
        "annotation-nested-100000-deep",
        ANN,
        lambda c: (write(c, "deep.json", "[" * 100_000 + "]" * 100_000),),
        "ValueError",
        r"deep\.json.*nested too deeply",
    ),
    Case(
        "annotation-30-GB-sparse",
        ANN,
        lambda c: (sparse(c, "huge.json", 30 * 10**9),),
        "ValueError",
        r"huge\.json.*30000000000 bytes, more than",
        within=2,
        memory=128 * MiB,
    ),
    Case(
        "annotation-fifo",
        ANN,
        lambda c: (fifo(c, "ann.json"),),
        "ValueError",
        r"ann\.json.*not a regular file",
        within=2,
        seconds=20,
    ),
    Case(
        "annotation-not-json",
        ANN,
        lambda c: (write(c, "bad.json", "{not json"),),
        "ValueError",
        r"bad\.json.*not a JSON file",
    ),
    Case(
        "annotation-not-utf8",
        ANN,
        lambda c: (write(c, "latin.json", b'{"size": "\xe9"}'),),
        "ValueError",
        r"latin\.json.*not a JSON file",
    ),
    Case(
        "annotation-objects-not-a-list",
        ANN,
        lambda c: (write(c, "o.json", '{"size": {"height": 2, "width": 2}, "objects": 3}'),),
        "ValueError",
        r"o\.json.*'objects' list",
    ),
    Case(
        "annotation-size-1e300",
        ANN,
        lambda c: (write(c, "s.json", ann_json(1e300, 1e300)),),
        "ValueError",
        r"s\.json.*size\.height is 1000.*more than the \d+ pixels",
        memory=256 * MiB,
    ),
    Case(
        "annotation-size-10**15",
        ANN,
        lambda c: (write(c, "s.json", ann_json(10**15, 4)),),
        "ValueError",
        r"s\.json.*size\.height is 1000000000000000",
        memory=256 * MiB,
    ),
    Case(
        "annotation-size-50000-squared",
        DENSITY,
        lambda c: ([write(c, "s.json", ann_json(50_000, 50_000, [point(1, 1)]))],),
        "ValueError",
        r"s\.json.*size is 50000x50000 \(2500000000 pixels\), more than the "
        r"268435456 pixels",
        memory=256 * MiB,
    ),
    Case(
        "annotation-bitmap-png-bomb",
        ANN,
        lambda c: (
            write(
                c,
                "b.json",
                ann_json(
                    100,
                    100,
                    [
                        {
                            "classTitle": "m",
                            "geometryType": "bitmap",
                            "bitmap": {
                                "origin": [0, 0],
                                "data": base64.b64encode(
                                    zlib.compress(png_bomb(100_000, 100_000, False))
                                ).decode(),
                            },
                        }
                    ],
                ),
            ),
        ),
        "ValueError",
        r"b\.json.*object 0.*more than its image",
        memory=256 * MiB,
    ),
    Case(
        "annotation-bitmap-zlib-bomb",
        ANN,
        lambda c: (
            write(
                c,
                "z.json",
                ann_json(
                    20,
                    30,
                    [
                        {
                            "classTitle": "m",
                            "geometryType": "bitmap",
                            "bitmap": {
                                "origin": [0, 0],
                                "data": base64.b64encode(
                                    zlib.compress(b"\x89PNG\r\n\x1a\n" + b"\0" * (64 * MiB), 9)
                                ).decode(),
                            },
                        }
                    ],
                ),
            ),
        ),
        "ValueError",
        r"z\.json.*object 0.*inflates",
        memory=256 * MiB,
    ),
    Case(
        "density-grid-10**6-squared",
        "napari_heatmap.supervisely:grid_size",
        lambda c: ([(20, 30)], 10**6, 10**6),
        "ValueError",
        r"density grid would be 1000000x1000000 .*smaller width/height",
        memory=128 * MiB,
    ),
    Case(
        "to_json-raises",
        DENSITY,
        lambda c: ([json.loads(ann_json(objects=[point(1, 1)])), RaisingToJson()],),
        "ValueError",
        r"annotations\[1\] \(RaisingToJson\).*to_json\(\) raised KeyError",
    ),
    Case(
        "meta-class-without-title",
        META,
        lambda c: (
            write(
                c,
                "meta.json",
                json.dumps(
                    {
                        "classes": [
                            {"shape": "point"},
                            {"title": "car", "shape": "point", "color": "#FF0000"},
                        ]
                    }
                ),
            ),
        ),
        None,
        check=lambda m: list(m.classes) == ["car"],
        warns=r"SuperviselyWarning: .*meta\.json: skipped class\(es\) without a 'title': index 0",
    ),
    Case(
        "meta-nested-deep",
        META,
        lambda c: (write(c, "meta.json", '{"classes": ' + "[" * 100_000 + "]" * 100_000 + "}"),),
        "ValueError",
        r"meta\.json.*nested too deeply",
    ),
    Case(
        "line-4000-vertices-zigzag-across-border",
        ANN,
        lambda c: (write(c, "zig.json", ann_json(1000, 1000, [zigzag_line(4000)])),),
        None,
        check=lambda a: (
            len(a.labels) >= 1000
            and all(
                ((lab.geometry.points >= 0) & (lab.geometry.points <= 999)).all()
                for lab in a.labels
            )
        ),
        within=5,
        seconds=60,
    ),
    Case(
        "line-scribble-crossing-itself-a-million-times",
        ANN,
        lambda c: (
            write(
                c,
                "scribble.json",
                ann_json(
                    100,
                    100,
                    [
                        {
                            "classTitle": "pen",
                            "geometryType": "line",
                            "points": {
                                "interior": [],
                                "exterior": np.random.default_rng(1)
                                .integers(-10, 110, (3000, 2))
                                .tolist(),
                            },
                        }
                    ],
                ),
            ),
        ),
        "ValueError",
        r"scribble\.json.*object 0.*crosses itself more than 65536 times",
        within=5,
        seconds=60,
    ),
    # folders and the reader
    Case(
        "symlink-loop-counts-once",
        DENSITY,
        symlink_loop_project,
        None,
        check=lambda v: v == 1.0,
        within=10,
    ),
    Case(
        "annotation-symlink-loop",
        ANN,
        lambda c: (os.symlink("loop.json", c.tmp / "loop.json") or str(c.tmp / "loop.json"),),
        "OSError",
        r"loop\.json",
        within=2,
    ),
    Case(
        "reader-declines-5000-character-path",
        CLAIMS,
        lambda c: (str(c.tmp / ("x" * 5000 + ".json")),),
        None,
        check=lambda v: v is False,
    ),
    Case(
        "reader-declines-deep-json",
        CLAIMS,
        lambda c: (write(c, "deep.json", "[" * 100_000 + "]" * 100_000),),
        None,
        check=lambda v: v is False,
        seconds=60,
    ),
    Case(
        "reader-claims-big-annotation-from-its-start",
        CLAIMS,
        big_annotation,
        None,
        check=lambda v: v is True,
        within=1,
        memory=128 * MiB,
        seconds=60,
        imports=READER,
    ),
    Case(
        "reader-declines-big-other-json-from-its-start",
        CLAIMS,
        big_other_json,
        None,
        check=lambda v: v is False,
        within=1,
        memory=128 * MiB,
        seconds=60,
        imports=READER,
    ),
    Case(
        "reader-opens-polygon-of-100000-vertices",
        OPEN,
        lambda c: (
            write(
                c,
                "ds/ann/p.png.json",
                ann_json(
                    1000,
                    1000,
                    [
                        {
                            "classTitle": "c",
                            "geometryType": "polygon",
                            "points": {
                                "interior": [],
                                "exterior": np.c_[
                                    500 + 400 * np.cos(np.linspace(0, 6.283, 100_000)),
                                    500 + 400 * np.sin(np.linspace(0, 6.283, 100_000)),
                                ]
                                .round()
                                .astype(int)
                                .tolist(),
                            },
                        }
                    ],
                ),
            ),
        ),
        None,
        check=lambda names: names == ["c (p.png)"],
        within=20,
        seconds=90,
        memory=None,
    ),
    # pickles stay shut
    Case("npy-pickle-never-unpickled", MASK, npy_pickle, "ValueError", r"mask.*\.npy"),
    # masks and the picture (mask_to_rgba: the CPU twin of what the screen shows)
    Case(
        "mask-huge-kernel-refused-at-once",
        RGBA,
        lambda c: (np.zeros((2048, 2048), np.float32), 2, False, None, None, (2**31 - 1, 3)),
        "ValueError",
        "blur_ksize .* too much work",
        within=5.0,
    ),
    Case(
        "mask-extreme-finite-values",
        RGBA,
        lambda c: (np.array([[-1e308, 0.0, 1e308]]), 2, False, None, None, None),
        None,
        check=lambda v: (
            v[0, :, :3].tolist() == [[0, 0, 128], [127, 255, 128], [128, 0, 0]] or v[0, 0, 3] == 255
        ),
    ),
    Case(
        "mask-ragged-list",
        RGBA,
        lambda c: ([[1.0, 2.0], [3.0]],),
        "ValueError",
        "heatmap_mask must be a rectangular",
    ),
    Case(
        "mask-int-too-large-for-a-float",
        RGBA,
        lambda c: (np.ones((2, 2)), 2, False, 10**400),
        "ValueError",
        "vmin must be a number a float can hold",
    ),
]


@pytest.fixture(scope="module")
def server_url() -> Any:
    with hostile_server(SMALL) as url:
        yield url


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(case: Case, tmp_path: Path, server_url: str) -> None:
    ctx = Ctx(tmp_path, server_url)
    out = run_isolated(
        case.func,
        case.make(ctx),
        seconds=case.seconds,
        memory=case.memory,
        patch=case.patch,
        imports=case.imports,
        workdir=tmp_path,
    )
    assert_outcome(out, case.error, case.match, case.within)
    if case.check is not None:
        assert case.check(out.value), out.describe()
    if case.warns is not None:
        shown = [f"{kind}: {text}" for kind, text in out.warnings]
        assert any(re.search(case.warns, w) for w in shown), shown
    assert not (tmp_path / "unpickled").exists()
