"""Segment parameters scale from Winter's tables; bad bodies are refused naming the range."""

from __future__ import annotations

import dataclasses
import math

import pytest

from rehabbot.body.anthropometry import BodyModel
from rehabbot.errors import ConfigurationError


def test_segment_masses_are_winter_fractions_and_sum_to_body_mass() -> None:
    body = BodyModel.from_height_mass(1.80, 80.0)
    assert body.pelvis.mass_kg == pytest.approx(0.678 * 80.0)
    assert body.thigh.mass_kg == pytest.approx(0.100 * 80.0)
    assert body.shank.mass_kg == pytest.approx(0.0465 * 80.0)
    assert body.foot.mass_kg == pytest.approx(0.0145 * 80.0)
    legs = body.thigh.mass_kg + body.shank.mass_kg + body.foot.mass_kg
    assert body.pelvis.mass_kg + 2.0 * legs == pytest.approx(80.0)
    assert body.segments_mass_kg == pytest.approx(80.0)


def _lengths(body: BodyModel) -> list[float]:
    return [
        body.pelvis.length_m, body.thigh.length_m, body.shank.length_m, body.foot.length_m,
        body.hip_width_m, body.foot_length_m, body.foot_height_m, body.heel_to_ankle_m,
        body.thigh.com_from_proximal_m, body.shank.com_from_proximal_m,
    ]


def test_lengths_scale_linearly_with_height_and_not_with_mass() -> None:
    short = BodyModel.from_height_mass(1.2, 60.0)
    tall = BodyModel.from_height_mass(1.8, 60.0)
    heavy = BodyModel.from_height_mass(1.8, 120.0)
    assert [t / s for s, t in zip(_lengths(short), _lengths(tall), strict=True)] == pytest.approx(
        [1.5] * 10
    )
    assert _lengths(heavy) == pytest.approx(_lengths(tall))
    assert tall.thigh.mass_kg == pytest.approx(short.thigh.mass_kg)


def test_standing_hip_height_is_the_greater_trochanter_height() -> None:
    body = BodyModel.from_height_mass(1.75, 70.0)
    assert body.leg_length_m == pytest.approx(0.530 * 1.75)
    assert body.thigh.length_m == pytest.approx(0.245 * 1.75)
    assert body.shank.length_m == pytest.approx(0.246 * 1.75)


def test_centre_of_mass_and_sagittal_inertia_follow_the_table() -> None:
    body = BodyModel.from_height_mass(1.75, 70.0)
    thigh = body.thigh
    assert thigh.com_from_proximal_m == pytest.approx(0.433 * thigh.length_m)
    assert thigh.inertia_kgm2[1] == pytest.approx(thigh.mass_kg * (0.323 * thigh.length_m) ** 2)
    shank = body.shank
    assert shank.inertia_kgm2[1] == pytest.approx(shank.mass_kg * (0.302 * shank.length_m) ** 2)


@pytest.mark.parametrize("name", ["pelvis", "thigh", "shank", "foot"])
def test_inertia_is_physically_valid(name: str) -> None:
    ixx, iyy, izz = getattr(BodyModel.from_height_mass(1.75, 70.0), name).inertia_kgm2
    assert min(ixx, iyy, izz) > 0.0
    assert ixx + iyy >= izz and iyy + izz >= ixx and izz + ixx >= iyy


@pytest.mark.parametrize("height_m", [0.99, 2.31, -1.75, math.nan])
def test_height_out_of_range_is_refused_naming_the_range(height_m: float) -> None:
    with pytest.raises(ConfigurationError, match=r"height .*\[1\.0, 2\.3\] m"):
        BodyModel.from_height_mass(height_m, 70.0)


@pytest.mark.parametrize("mass_kg", [19.9, 250.1, math.inf])
def test_mass_out_of_range_is_refused_naming_the_range(mass_kg: float) -> None:
    with pytest.raises(ConfigurationError, match=rf"mass {mass_kg} kg .*\[20\.0, 250\.0\] kg"):
        BodyModel.from_height_mass(1.75, mass_kg)


def test_limits_themselves_are_allowed() -> None:
    assert BodyModel.from_height_mass(1.0, 20.0).height_m == 1.0
    assert BodyModel.from_height_mass(2.3, 250.0).mass_kg == 250.0


def test_segments_are_immutable() -> None:
    body = BodyModel.from_height_mass(1.75, 70.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        body.thigh.mass_kg = 1.0  # type: ignore[misc]
