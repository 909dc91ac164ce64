"""Layer 6 analysis: Mastcam-Z band depth, slope and ratio (uncertainty checked by finite differences),
the left/right merge at 800 nm and R*, on a real product's stack and on generated spectra."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import xarray_crism
from xarray_crism.errors import CrismError

from .conftest import CORPUS

LEFT = CORPUS / "mastcamz" / "rad" / "ZL0_0709_0729888971_069RAD_N0332864ZCAM07114_0340LMA01.IMG"


def test_band_depth_slope_ratio_on_a_real_stack() -> None:
    cube = xarray_crism.stack_filters([LEFT])
    assert list(cube.filter_name.values) == ["L0B", "L0G", "L0R"]
    rad = cube.radiance.values.astype(float)
    b, g, r = rad
    a = (544.0 - 480.0) / (630.0 - 480.0)
    out = cube.zcam.band_depth("L0B", "L0G", "L0R", uncertainty=0.02)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(out.band_depth.values, 1 - g / ((1 - a) * b + a * r), rtol=1e-10)
        np.testing.assert_allclose(cube.zcam.slope("L0B", 630).slope.values, (r - b) / 150.0, rtol=1e-10)
        np.testing.assert_allclose(cube.zcam.ratio("L0R", "L0B").ratio.values, r / b, rtol=1e-10)
    # first-order uncertainty = sqrt(sum (dBD/dR_i * sigma_i)^2), derivatives by finite differences
    line, sample = 300, 400
    values = rad[:, line, sample]

    def depth(v: np.ndarray) -> float:
        return float(1 - v[1] / ((1 - a) * v[0] + a * v[2]))

    grads = [(depth(values + h) - depth(values - h)) / (2 * h[i]) for i, h in enumerate(np.eye(3) * values * 1e-6)]
    expected = np.sqrt(sum((gr * 0.02 * v) ** 2 for gr, v in zip(grads, values, strict=True)))
    np.testing.assert_allclose(out.band_depth_uncertainty.values[line, sample], expected, rtol=1e-5)
    with pytest.raises(CrismError, match="L0G"):
        cube.zcam.ratio("L9", "L0G")


def _spectra(eye: str, waves: list[float], values: list[float], names: list[str]) -> xr.Dataset:
    return xr.Dataset(
        {"i_over_f": (("band",), np.array(values))},
        coords={"wavelength": ("band", np.array(waves)), "filter_name": ("band", np.array(names))},
        attrs={"eye": eye},
    )


def test_merge_eyes_scales_the_right_eye_at_800_nm_and_r_star() -> None:
    left = _spectra("left", [800, 754, 677, 605, 528, 442], [0.30, 0.29, 0.27, 0.22, 0.15, 0.10],
                    ["L1", "L2", "L3", "L4", "L5", "L6"])
    right = _spectra("right", [800, 866, 910, 939, 978, 1022], [0.33, 0.35, 0.36, 0.36, 0.37, 0.38],
                     ["R1", "R2", "R3", "R4", "R5", "R6"])
    merged = left.zcam.merge_eyes(right)
    assert list(merged.filter_name.values) == ["L6", "L5", "L4", "L3", "L2", "L1", "R2", "R3", "R4", "R5", "R6"]
    np.testing.assert_allclose(merged.right_eye_scale.values, 0.30 / 0.33)
    np.testing.assert_allclose(merged.i_over_f.values[-5:], np.array([0.35, 0.36, 0.36, 0.37, 0.38]) * 0.30 / 0.33)
    star = left.zcam.r_star(60.0)
    np.testing.assert_allclose(star.i_over_f.values, left.i_over_f.values * 2.0)
    with pytest.raises(CrismError, match="IOF"):
        left.rename(i_over_f="radiance").zcam.r_star(30.0)
