"""Sweep specs: points expanded deterministically, and one clear message for each malformed spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehabbot.configfile import bundled_file
from rehabbot.errors import ConfigurationError
from rehabbot.sweeps.pareto import on_front, pareto_front
from rehabbot.sweeps.spec import SweepSpec, expand, load_sweep_spec

#: A single-phase assist-as-needed protocol, the base of the bundled sweeps.
AAN = bundled_file("sweeps", "protocols/aan_training.toml")
BASE = f"""
name = "t"
base_protocol = "{AAN}"
duration_s = 3
"""


def spec_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.toml"
    settle = "" if "settle_s" in text else "settle_s = 1\n"
    path.write_text(BASE + settle + text, encoding="utf-8")
    return path


def load_and_expand(path: Path) -> int:
    return len(expand(load_sweep_spec(path), path))


def test_bundled_example_has_40_points_of_10_s_and_unique_keys() -> None:
    path = bundled_file("sweeps", "aan_gains.toml")
    points = expand(load_sweep_spec(path), path)
    assert len(points) == 40 and {p.duration_s for p in points} == {10.0}
    assert len({p.key for p in points}) == 40
    assert [p.index for p in points] == list(range(40))


def test_grid_applies_every_combination_to_the_protocol(tmp_path: Path) -> None:
    path = spec_file(tmp_path, """
profiles = ["healthy", "stroke_left"]
seeds = [0, 1]
[vary]
treadmill_speed_kmh = [2.0, 3.0]
[vary.controller_params]
forgetting = [0.5, 0.7, 0.9]
""")
    points = expand(load_sweep_spec(path), path)
    assert len(points) == 3 * 2 * 2 * 2
    combos = {(p.profile, p.seed, p.protocol.treadmill_speed_kmh,
               p.protocol.controller_params["forgetting"]) for p in points}
    assert len(combos) == 24
    first = points[0]
    assert first.settings == {"treadmill_speed_kmh": 2.0, "params.forgetting": 0.5}
    assert first.protocol.controller == "assist_as_needed"  # the base protocol's controller


def test_changing_the_controller_drops_the_base_protocols_parameters(tmp_path: Path) -> None:
    path = spec_file(tmp_path, """
[vary]
controller = ["path_control"]
[vary.controller_params]
tunnel_width_rad = [0.05, 0.1]
""")
    points = expand(load_sweep_spec(path), path)
    assert [p.protocol.controller_params for p in points] == [
        {"tunnel_width_rad": 0.05}, {"tunnel_width_rad": 0.1}]


def test_random_search_is_reproducible_per_seed(tmp_path: Path) -> None:
    def draw(seed: int) -> list[dict[str, float | str]]:
        path = spec_file(tmp_path, f"""
search = "random"
samples = 5
random_seed = {seed}
profiles = ["healthy", "sci_incomplete"]
[vary]
guidance_pct = {{low = 30, high = 100}}
phase_source = ["cadence", "oscillator"]
[vary.controller_params]
error_gain_pct_per_rad = {{low = 10, high = 1000, log = true}}
""")
        points = expand(load_sweep_spec(path), path)
        assert len(points) == 10  # each drawn setting on both profiles
        assert points[0].settings == points[1].settings
        return [p.settings for p in points]

    first = draw(7)
    assert draw(7) == first
    assert draw(8) != first
    gains = [float(s["params.error_gain_pct_per_rad"]) for s in first]
    assert all(10 <= g <= 1000 for g in gains)


def test_keys_follow_what_decides_a_result(tmp_path: Path) -> None:
    one = expand(load_sweep_spec(spec_file(tmp_path, "seeds = [0]")))
    again = expand(load_sweep_spec(spec_file(tmp_path, "seeds = [0]")))
    other_seed = expand(load_sweep_spec(spec_file(tmp_path, "seeds = [1]")))
    longer = expand(SweepSpec.model_validate({"name": "t", "base_protocol": str(AAN),
                                             "duration_s": 4, "settle_s": 1}))
    assert one[0].key == again[0].key
    assert one[0].key != other_seed[0].key
    assert one[0].key != longer[0].key


@pytest.mark.parametrize(("text", "message"), [
    ('profiles = ["healthy", "robot"]', "unknown patient profile(s) 'robot'"),
    ('[vary]\nguidance_pct = {low = 10, high = 90}', "grid search needs lists of values, but "
                                                     "guidance_pct is a range"),
    ('search = "random"', "random search needs samples = N"),
    ("samples = 4", "samples is for random search"),
    ("settle_s = 5", "settle_s = 5 s leaves nothing of duration_s = 3 s"),
    ('search = "random"\nsamples = 2\n[vary]\nguidance_pct = {low = 90, high = 10}',
     "low 90 must be below high 10"),
    ("[vary]\nguidance_pct = []", "vary.guidance_pct"),
    ("[vary]\nstiffness = [1, 2]", "invalid field 'vary.stiffness'"),
    ("duration_s = 3", "not valid TOML"),
    ('[vary]\ncontroller = ["pid"]', "vary.controller"),
])
def test_malformed_spec_gives_one_clear_message(tmp_path: Path, text: str, message: str) -> None:
    path = spec_file(tmp_path, text)
    with pytest.raises(ConfigurationError) as error:
        load_and_expand(path)
    assert message in str(error.value)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(("text", "message"), [
    ("[vary]\ntreadmill_speed_kmh = [3.0, 9.0]", "point (treadmill_speed_kmh = 9.0) makes an "
                                                  "invalid protocol"),
    ("[vary.controller_params]\nerror_gain_pct_per_rad = [50, 5000]",
     "point (params.error_gain_pct_per_rad = 5000.0)"),
    ("[vary.controller_params]\ngain = [1]", "point (params.gain = 1.0)"),
])
def test_a_bad_point_is_named_before_anything_runs(tmp_path: Path, text: str,
                                                   message: str) -> None:
    path = spec_file(tmp_path, text)
    with pytest.raises(ConfigurationError) as error:
        load_and_expand(path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_missing_base_protocol_is_named(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(BASE.replace(str(AAN), "nowhere.toml") + "settle_s = 1\n",
                    encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"nowhere\.toml: cannot read the file"):
        load_and_expand(path)


def test_pareto_front_keeps_the_non_dominated_points_per_profile() -> None:
    assert pareto_front([(3.0, 1.0), (1.0, 3.0), (2.0, 2.0), (2.5, 2.5), (1.0, 4.0)]) == [1, 2, 0]
    rows = [
        {"profile": "a", "robot_power_w": 1.0, "rms_error_deg": 5.0},
        {"profile": "a", "robot_power_w": 2.0, "rms_error_deg": 6.0},  # dominated by the first
        {"profile": "b", "robot_power_w": 9.0, "rms_error_deg": 9.0},  # alone in its profile
        {"profile": "b", "robot_power_w": None, "rms_error_deg": 1.0},  # not measured
        {"profile": "a", "robot_power_w": 3.0, "rms_error_deg": float("nan")},
        {"profile": "a", "robot_power_w": 0.5, "rms_error_deg": 1.0, "status": "faulted"},
        {"profile": "a", "robot_power_w": 4.0, "rms_error_deg": 0.5, "status": "completed"},
    ]
    assert on_front(rows) == [True, False, True, False, False, False, True]
