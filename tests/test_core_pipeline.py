"""Pure tests of behaviour §2 (mask to colours), §3 placement maths and §5 backgrounds."""

from __future__ import annotations

import base64
import subprocess
import sys
from functools import partial

import cv2
import numpy as np
import pytest

from napari_heatmap import COLORMAP_NAMES, colormap_lut, mask_to_rgba
from napari_heatmap._background import load_background, natural_contrast_limits
from napari_heatmap._colormaps import resolve_colormap
from napari_heatmap._pipeline import display_field, finite_range, infer_limits, reduce_mask
from napari_heatmap._placement import frame_size, layer_transform, pixel_at

JET = colormap_lut("jet")


def opencv_rgb(index: int, cmap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """The colour OpenCV itself gives the uint8 value ``index``, in RGB order."""
    bgr = cv2.applyColorMap(np.array([[index]], np.uint8), cmap)[0, 0]
    return bgr[::-1]


# ---------------------------------------------------------------- colormaps


def test_all_22_opencv_colormaps_resolve_by_constant_and_name():
    constants = {
        k[len("COLORMAP_") :].lower(): getattr(cv2, k)
        for k in dir(cv2)
        if k.startswith("COLORMAP_")
    }
    assert constants == COLORMAP_NAMES
    for name, cid in constants.items():
        assert resolve_colormap(cid) == cid
        assert resolve_colormap(name.upper()) == cid
        assert resolve_colormap(f"COLORMAP_{name.upper()}") == cid


def test_lut_is_rgb_order_of_opencv_bgr():
    lut = colormap_lut(cv2.COLORMAP_JET)
    assert lut.shape == (256, 3)
    assert tuple(lut[0]) == tuple(opencv_rgb(0))
    assert tuple(lut[0]) == (0, 0, 128)  # JET starts dark blue, in RGB


@pytest.mark.parametrize("bad", [22, -1, "nope", True, 2.0, None])
def test_unknown_colormap_raises_listing_names(bad):
    with pytest.raises(ValueError, match=r"colormap.*jet.*turbo"):
        resolve_colormap(bad)


# ---------------------------------------------------------------- reduce


def test_reduce_keeps_2d_and_averages_channels():
    m = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert reduce_mask(m) is m
    rgb = np.stack([m, m + 3, m + 6], axis=-1).astype(np.uint8)
    np.testing.assert_allclose(reduce_mask(rgb), m + 3)
    assert reduce_mask(np.eye(2, dtype=bool)).tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize(
    ("bad", "exc", "words"),
    [
        (np.zeros(4), ValueError, "shape"),
        (np.zeros((2, 2, 2, 2)), ValueError, "shape"),
        (np.zeros((0, 3)), ValueError, "empty"),
        (np.array([["a", "b"]]), TypeError, "dtype"),
        (np.zeros((2, 2), complex), TypeError, "dtype"),
        ("mask", TypeError, "str"),
    ],
)
def test_bad_masks_raise_naming_heatmap_mask(bad, exc, words):
    with pytest.raises(exc, match=rf"heatmap_mask.*{words}"):
        reduce_mask(bad)


# ---------------------------------------------------------------- limits


def test_limits_inferred_from_finite_values_only():
    m = np.array([[np.nan, -np.inf, 2.0], [5.0, np.inf, 3.0]])
    assert finite_range(m) == (2.0, 5.0)
    assert infer_limits(finite_range(m), None, None) == (2.0, 5.0)
    assert infer_limits((2.0, 5.0), 0.0, None) == (0.0, 5.0)
    assert finite_range(np.array([[np.nan, np.inf]])) is None


def test_vmin_above_vmax_raises():
    with pytest.raises(ValueError, match="vmin.*vmax"):
        infer_limits((0.0, 1.0), 3.0, 2.0)
    with pytest.raises(ValueError, match="vmin"):
        mask_to_rgba(np.zeros((3, 3)), vmin=5, vmax=1)


# ---------------------------------------------------------------- colour rule


def test_colour_is_lut_at_round_255t():
    # values chosen so 255·t lands on .4 and .6 around integers
    vals = np.array([[0.0, 10.4, 10.6, 127.5, 255.0]], np.float32)
    rgba = mask_to_rgba(vals, vmin=0, vmax=255, blur_ksize=None)
    for j, idx in enumerate([0, 10, 11, 128, 255]):
        assert tuple(rgba[0, j, :3]) == tuple(opencv_rgb(idx)), j
    assert (rgba[..., 3] == 255).all()


def test_out_of_range_values_clip_never_wrap():
    # The original widget casts 300/255*255 to uint8 -> wraps to a low colour.
    vals = np.array([[-50.0, 300.0, 1000.0]])
    rgba = mask_to_rgba(vals, vmin=0, vmax=255, blur_ksize=None)
    assert tuple(rgba[0, 0, :3]) == tuple(JET[0])
    assert tuple(rgba[0, 1, :3]) == tuple(JET[255])
    assert tuple(rgba[0, 2, :3]) == tuple(JET[255])


def test_nan_transparent_and_inf_ignored_for_limits():
    vals = np.array([[0.0, np.nan, 10.0, np.inf, -np.inf]])
    rgba = mask_to_rgba(vals, blur_ksize=None)
    assert rgba[0, 1, 3] == 0  # NaN transparent
    assert tuple(rgba[0, 2, :3]) == tuple(JET[255])  # 10 is the max: inf did not stretch
    assert tuple(rgba[0, 0, :3]) == tuple(JET[0])
    assert tuple(rgba[0, 3, :3]) == tuple(JET[255])  # +inf clipped to the top colour
    assert tuple(rgba[0, 4, :3]) == tuple(JET[0])  # -inf to the bottom colour
    assert (rgba[0, [0, 2, 3, 4], 3] == 255).all()


def test_transparent_low_hides_what_gets_the_lowest_colour_after_blur():
    vals = np.array([[0.0, 0.3, 0.9, 1.0, 2.0, 255.0, -4.0]])
    rgba = mask_to_rgba(vals, vmin=0, vmax=255, transparent_low=True, blur_ksize=None)
    # t < 1/255 (value < 1) is transparent, including values below vmin
    assert rgba[0, :, 3].tolist() == [0, 0, 0, 255, 255, 255, 0]
    # and without transparent_low everything is opaque
    assert (mask_to_rgba(vals, vmin=0, vmax=255, blur_ksize=None)[..., 3] == 255).all()


def test_transparent_low_applies_after_blur_not_before():
    m = np.zeros((21, 21), np.float32)
    m[10, 10] = 255.0
    rgba = mask_to_rgba(m, vmin=0, vmax=255, transparent_low=True, blur_ksize=(5, 5))
    # the blurred spot's neighbours are now above vmin: visible, not cut before blur
    assert rgba[10, 11, 3] == 255
    assert rgba[0, 0, 3] == 0


def test_constant_mask_paints_middle_colour_and_stays_visible():
    m = np.full((4, 5), 7.0)
    for tl in (False, True):
        rgba = mask_to_rgba(m, transparent_low=tl)
        assert (rgba[..., :3] == JET[128]).all()
        assert (rgba[..., 3] == 255).all()
    # vmin == vmax given explicitly: every finite pixel gets the middle colour
    rgba = mask_to_rgba(np.array([[1.0, 5.0, np.nan]]), vmin=3, vmax=3, blur_ksize=None)
    assert (rgba[0, :2, :3] == JET[128]).all()
    assert rgba[0, 2, 3] == 0


def test_no_finite_value_shows_nothing():
    rgba = mask_to_rgba(np.full((3, 3), np.nan))
    assert (rgba[..., 3] == 0).all()


def test_matches_opencv_pipeline_where_original_is_well_defined():
    rng = np.random.default_rng(0)
    m = rng.uniform(0, 100, (40, 50))
    ours = mask_to_rgba(m, colormap="viridis", vmin=0, vmax=100, blur_ksize=None)
    u8 = np.rint(m / 100 * 255).astype(np.uint8)
    ref = cv2.cvtColor(cv2.applyColorMap(u8, cv2.COLORMAP_VIRIDIS), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(ours[..., :3], ref)


# ---------------------------------------------------------------- blur


def test_gaussian_blur_uses_opencv_sigma_rule_in_float():
    rng = np.random.default_rng(1)
    m = rng.uniform(0, 1, (30, 30)).astype(np.float32)
    out = display_field(m, (5, 3), None)
    np.testing.assert_allclose(out, cv2.GaussianBlur(m, (5, 3), 0), rtol=1e-6)
    assert out.dtype == np.float32
    assert out is not m


def test_blur_none_is_identity():
    m = np.arange(12, dtype=np.float64).reshape(3, 4)
    np.testing.assert_array_equal(display_field(m, None, None), m)


def test_nan_stays_nan_and_does_not_spread():
    m = np.ones((9, 9), np.float32)
    m[4, 4] = np.nan
    out = display_field(m, (5, 5), None)
    assert np.isnan(out[4, 4])
    assert np.isnan(out).sum() == 1
    np.testing.assert_allclose(np.delete(out.ravel(), 40), 1.0, rtol=1e-6)


def test_nan_aware_blur_in_strips_equals_one_whole_image_blur():
    rng = np.random.default_rng(3)
    m = rng.uniform(0, 10, (700, 90)).astype(np.float32)  # taller than a few strips
    m[250:262, 10:30] = np.nan  # straddles a strip boundary
    m[600, 5] = np.inf
    m[5, 80] = -np.inf
    out = display_field(m, (9, 15), None)
    finite = np.where(np.isfinite(m), m, 0)
    finite[600, 5], finite[5, 80] = (
        np.nanmax(np.where(np.isinf(m), np.nan, m)),
        np.nanmin(np.where(np.isinf(m), np.nan, m)),
    )
    valid = (~np.isnan(m)).astype(np.float32)
    ref = cv2.GaussianBlur(finite, (9, 15), 0) / cv2.GaussianBlur(valid, (9, 15), 0)
    ref[np.isnan(m)] = np.nan
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    assert np.array_equal(np.isnan(out), np.isnan(m))


def test_inf_replaced_by_finite_extremes_before_blur():
    m = np.zeros((7, 7), np.float32)
    m[3, 3] = np.inf
    m[0, 0] = 4.0
    out = display_field(m, (3, 3), None)
    assert np.isfinite(out).all()
    assert out[3, 3] <= 4.0


@pytest.mark.parametrize(
    "ksize", [(4, 5), (5, 4), (0, 3), (-3, 3), (5,), "5", (5.0, 5.0), (True, 3)]
)
def test_even_or_bad_kernel_raises_naming_blur_ksize(ksize):
    with pytest.raises(ValueError, match="blur_ksize"):
        mask_to_rgba(np.zeros((5, 5)), blur_ksize=ksize)


def test_blur_function_wins_and_gets_float32_in_data_units():
    seen = {}

    def f(img):
        seen["dtype"], seen["max"] = img.dtype, float(np.nanmax(img))
        return img * 0 + 1000.0

    m = np.array([[0.0, 500.0], [np.nan, 250.0]])
    rgba = mask_to_rgba(m, blur_function=f, blur_ksize=(3, 3), vmin=0, vmax=1000)
    assert seen == {"dtype": np.float32, "max": 500.0}
    assert tuple(rgba[0, 0, :3]) == tuple(JET[255])
    assert rgba[1, 0, 3] == 0  # NaN stays NaN whatever the blur returns


def test_documented_blur_functions_work():
    m = np.random.default_rng(2).uniform(0, 255, (60, 60)).astype(np.float32)
    median = partial(cv2.medianBlur, ksize=5)

    def gauss(img):
        k = img.shape[0] // 20
        k += k % 2 == 0
        return cv2.GaussianBlur(img, (k, k), 0)

    for f in (median, gauss):
        assert mask_to_rgba(m, blur_function=f).shape == (60, 60, 4)


@pytest.mark.parametrize("ret", [np.zeros((3, 3)), "x", None, np.zeros((5, 5, 3))])
def test_blur_function_bad_return_raises_naming_it(ret):
    with pytest.raises(ValueError, match="blur_function"):
        mask_to_rgba(np.zeros((5, 5)), blur_function=lambda img: ret)


def test_gray_is_never_modified():
    m = np.array([[1.0, np.inf], [np.nan, 2.0]])
    before = m.copy()

    def vandal(img):  # a blur_function that writes into what it is given
        img *= 0
        return img

    mask_to_rgba(m, blur_function=vandal)
    display_field(m, (3, 3), None)
    single = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)  # float32: the no-copy path
    display_field(single, None, vandal)
    np.testing.assert_array_equal(m, before)
    np.testing.assert_array_equal(single, [[1.0, 2.0], [3.0, 4.0]])


# ---------------------------------------------------------------- placement


def test_frame_defaults_and_aspect():
    assert frame_size((400, 600), None, None) == (400.0, 600.0)
    assert frame_size((400, 600), 300, None) == (200.0, 300.0)
    assert frame_size((400, 600), None, 800) == (800.0, 1200.0)
    assert frame_size((400, 600), 100, 100) == (100.0, 100.0)


def test_stretched_mask_edges_coincide_with_background():
    # mask 4×5 over a background 400×600
    scale, translate = layer_transform((400, 600), (4, 5))
    assert scale == (100.0, 120.0)
    assert translate == (49.5, 59.5)
    # outer edge of mask pixel 0 is at -0.5 (the background's edge)
    assert translate[0] - scale[0] / 2 == -0.5


def test_pixel_at_maps_edges_and_outside():
    frame, shape = (400.0, 600.0), (4, 5)
    assert pixel_at((-0.5, -0.5), frame, shape) == (0, 0)
    assert pixel_at((99.4, 119.4), frame, shape) == (0, 0)
    assert pixel_at((99.6, 119.6), frame, shape) == (1, 1)
    assert pixel_at((399.4, 599.4), frame, shape) == (3, 4)
    assert pixel_at((399.6, 10), frame, shape) is None
    assert pixel_at((-0.6, 10), frame, shape) is None
    assert pixel_at((3, 50.0, 60.0), frame, shape) == (0, 0)  # extra leading dims ignored


# ---------------------------------------------------------------- backgrounds


def test_array_backgrounds_kept_as_given():
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., 0] = 10
    rgba[..., 3] = 200
    out = load_background(rgba)
    assert out.shape == (2, 3, 4) and out[0, 0].tolist() == [10, 0, 0, 200]
    gray = np.arange(6, dtype=np.uint16).reshape(2, 3)
    out = load_background(gray)
    assert out.shape == (2, 3, 3) and out.dtype == np.uint16
    assert out[1, 2].tolist() == [5, 5, 5]  # not mirrored
    f = np.full((2, 2, 3), 0.5)
    assert natural_contrast_limits(load_background(f)) == (0.0, 1.0)
    assert natural_contrast_limits(load_background(gray)) == (0.0, 65535.0)


def test_file_backgrounds_any_path_rgb_order(tmp_path):
    img = np.zeros((4, 6, 3), np.uint8)
    img[..., 0] = 255  # red in RGB
    p = tmp_path / "dossier é ü" / "fond rouge.png"
    p.parent.mkdir()
    _ok, buf = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    p.write_bytes(buf.tobytes())
    out = load_background(p)
    assert out[0, 0].tolist() == [255, 0, 0]
    out16 = np.full((3, 3), 40000, np.uint16)
    p16 = tmp_path / "g16.png"
    p16.write_bytes(cv2.imencode(".png", out16)[1].tobytes())
    assert load_background(str(p16)).dtype == np.uint16


def test_bad_background_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="background_image"):
        load_background(tmp_path / "missing.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="background_image"):
        load_background(bad)
    with pytest.raises(TypeError, match="background_image"):
        load_background(42)
    with pytest.raises(ValueError, match="background_image"):
        load_background(np.zeros((3, 3, 2)))


def test_data_url_background():
    img = np.zeros((2, 2, 4), np.uint8)
    img[..., 1] = 255
    img[..., 3] = 128
    png = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA))[1].tobytes()
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    out = load_background(url)
    assert out[0, 0].tolist() == [0, 255, 0, 128]
    with pytest.raises(ValueError, match="background_image"):
        load_background("data:image/png;base64,AAAA")


def test_http_background_served_locally(tmp_path):
    import http.server
    import threading

    img = np.zeros((3, 5, 3), np.uint8)
    img[..., 2] = 255
    (tmp_path / "bg.png").write_bytes(cv2.imencode(".png", img[..., ::-1])[1].tobytes())

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(tmp_path), **k)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert load_background(f"{base}/bg.png")[0, 0].tolist() == [0, 0, 255]
        with pytest.raises(ValueError, match="background_image.*download"):
            load_background(f"{base}/missing.png")
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- floors


QT = ("qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6")


def assert_fresh_interpreter_loads_none_of(code, roots):
    """Run ``code`` in a new interpreter; fail if it imported a module under ``roots``."""
    check = (
        f"{code}\nimport sys\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {tuple(roots)!r}]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_pure_floor_imports_neither_napari_nor_qt():
    assert_fresh_interpreter_loads_none_of(
        "import numpy as np, napari_heatmap as n\n"
        "n.mask_to_rgba(np.zeros((3, 3)))\n"
        "import napari_heatmap._background, napari_heatmap._placement\n"
        "import napari_heatmap._settings, napari_heatmap._field, napari_heatmap._console\n"
        "from napari_heatmap._settings import Settings\n"
        "Settings().replace(colormap='hot', vmin=1, vmax=2, opacity=50)",
        ("napari", "vispy", *QT),
    )


def test_model_floor_imports_no_qt():
    assert_fresh_interpreter_loads_none_of(
        "import numpy as np\nfrom napari.components import ViewerModel\n"
        "from napari_heatmap import Heatmap, write_heatmap_png\n"
        "import napari_heatmap._registry, napari_heatmap._session, napari_heatmap._sample\n"
        "hm = Heatmap(heatmap_mask=np.eye(3), viewer=ViewerModel())\n"
        "hm.colormap = 'gray'; hm.heatmap_layer.contrast_limits = (0.2, 0.6)",
        QT,
    )


def test_halves_round_up_like_the_gpu_bins():
    # 255·t = k + 0.5 exactly: floor(x + 0.5) picks k + 1 for even and odd k alike
    vals = np.array([[0.5, 1.5, 2.5, 127.5]])
    rgba = mask_to_rgba(vals, vmin=0, vmax=255, blur_ksize=None)
    for j, idx in enumerate([1, 2, 3, 128]):
        assert tuple(rgba[0, j, :3]) == tuple(JET[idx])


def test_large_offset_keeps_every_colour_step():
    # float32 has ~7 digits: 1.6e9 + 0..255 would collapse to a few colours without an offset
    m = 1_600_000_000 + np.arange(256, dtype=np.float64).reshape(16, 16)
    rgba = mask_to_rgba(m, blur_ksize=None)
    np.testing.assert_array_equal(rgba[..., :3].reshape(256, 3), JET)
    blurred = mask_to_rgba(m, blur_ksize=(3, 3))
    assert len(np.unique(blurred[..., :3].reshape(-1, 3), axis=0)) > 200


def test_blur_function_errors_name_it():
    with pytest.raises(ValueError, match="blur_function raised ZeroDivisionError"):
        mask_to_rgba(np.zeros((4, 4)), blur_function=lambda img: 1 / 0)
    with pytest.raises(ValueError, match="blur_function"):
        mask_to_rgba(np.zeros((4, 4)), blur_function=lambda img: img + 1j)


def test_mask_to_rgba_validates_transparent_low():
    with pytest.raises(TypeError, match="transparent_low"):
        mask_to_rgba(np.zeros((2, 2)), transparent_low="no")


def test_int32_background_shown_by_its_range_and_folders_refused(tmp_path):
    img = np.array([[0, 1000], [2000, 4000]], np.int32)
    assert natural_contrast_limits(load_background(img)) == (0.0, 4000.0)
    with pytest.raises(ValueError, match="folder"):
        load_background(tmp_path)
    with pytest.raises(ValueError, match="empty"):
        load_background("")


def test_trickling_server_times_out(monkeypatch):
    import http.server
    import threading
    import time

    import napari_heatmap._background as bgmod

    class Trickle(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"x" * (1 << 16))  # a full chunk every 0.05 s, never done
                self.wfile.flush()
                time.sleep(0.05)

        def log_message(self, *a):
            pass

    monkeypatch.setattr(bgmod, "URL_TIMEOUT", 0.5)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        start = time.monotonic()
        with pytest.raises(ValueError, match="took more than"):
            load_background(f"http://127.0.0.1:{server.server_address[1]}/x.png")
        assert time.monotonic() - start < 1.5
    finally:
        server.shutdown()
        server.server_close()
