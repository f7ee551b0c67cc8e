"""A simulated session's recorded samples do not change when the simulation is made faster.

The digest below was made on the code before the speed work of issue 19 (lockstep transport,
vectorized codec, array supervisor, batched physics): the same robot, protocol and seed must
record the same samples bit for bit. A change that alters any recorded value (a different
rounding in the codec, another order of frames, another order of floating-point operations in the
drive law) changes the digest.

It was made again for the changes of issue 14 named at :data:`DIGEST` (the simulation-truth
recording alone left it unchanged). Since then it pins the same thing as before: faster code must
record the same samples bit for bit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.storage.store import SessionStore

#: SHA-256 of the recorded samples of a 3 s ``standard_gait`` session of ``sim_exo``, seed 7.
#: Made again for two changes of issue 14 that alter recorded values by design: the emulated
#: drives' encoders (whole counts, a seeded noisy velocity: every value; alone they gave
#: fdf527d71b0f193f62f218279d1a814acbc4bd25e5c980345bbd6275bc79bddd) and the end of the walk (the
#: belt ramps to a stop while the guidance settles into a standing hold, then the torque fades:
#: alone it gave 7a8026213c5debe01c6d323f5e3d7a1c9efcda0dbe929ebca01d9a59d27bd495, its first
#: 3,002 ticks bit-identical to the speed work's 72a44af6…dcc955).
DIGEST = "50b122ba8927d2febb684dcaea66e655db74f80a3170c5b570a5d8a3e5e76394"


def samples_digest(store_path: Path, session_id: int) -> str:
    """SHA-256 over every recorded array of a session, in a fixed order, as little-endian bytes."""
    with SessionStore.open(store_path) as store:
        samples = store.load_samples(session_id)
    digest = hashlib.sha256()
    for name in ("tick", "t_s", "phase", "contact", "q", "qd", "tau", "tau_cmd", "q_ref"):
        array = np.ascontiguousarray(getattr(samples, name))
        digest.update(name.encode())
        digest.update(str(array.shape).encode())
        digest.update(array.astype(array.dtype.newbyteorder("<")).tobytes())
    return digest.hexdigest()


def test_a_lockstep_session_records_the_same_samples_as_before_the_speed_work(
        tmp_path: Path) -> None:
    store = tmp_path / "digest.sqlite"
    result = SessionRunner(SessionRequest(
        robot=load_robot_config(), protocol=load_protocol(), store_path=store, duration_s=3.0,
        seed=7,
    )).run()
    assert result.status == "completed", [f.describe() for f in result.loop.faults]
    assert samples_digest(store, result.session_id) == DIGEST
