"""What the person in the robot hears during a robot assessment, in plain words.

Each step of an assessment procedure asks the person something (its
:class:`~rehabbot.controllers.procedures.Instruction`). The therapist's console and the patient
display show it as one short sentence (:func:`spoken`), the same text on both, so that the
therapist reads what the patient reads:

* a step without a tested effort (passive moves, sweeps, the stiffness sines, the rests): "Relax";
* an isometric effort (the joint held, a ``hold`` step): "Push ... as hard as you can";
* an active range of motion (the joint free inside its walls, a ``free`` step): "Move ... as far
  as you can".

The joint and the direction become words for the leg part that moves: the thigh for the hip
(forward is flexion), the knee (bend is flexion), the foot (up is dorsiflexion, ankle flexion).
"""

from __future__ import annotations

from rehabbot.controllers.procedures import Step

#: The text of a step that asks nothing of the person.
RELAX_TEXT = "Relax"

#: Per joint kind and direction: (the push of an isometric effort, the move of an active range).
_WORDS: dict[tuple[str, str], tuple[str, str]] = {
    ("hip_flexion", "flexion"): ("Push your {side} thigh forward",
                                 "Move your {side} thigh forward"),
    ("hip_flexion", "extension"): ("Push your {side} thigh back", "Move your {side} thigh back"),
    ("knee_angle", "flexion"): ("Bend your {side} knee", "Bend your {side} knee"),
    ("knee_angle", "extension"): ("Straighten your {side} knee", "Straighten your {side} knee"),
    ("ankle_angle", "flexion"): ("Pull your {side} foot up", "Pull your {side} foot up"),
    ("ankle_angle", "extension"): ("Push your {side} foot down", "Push your {side} foot down"),
}
_SIDES = {"r": "right", "l": "left"}


def spoken(step: Step) -> str:
    """The sentence that asks the person for what ``step`` needs of them.

    >>> from rehabbot.controllers.procedures import Instruction
    >>> spoken(Step("hold", "hip_flexion_r", "effort", "flexion",
    ...             Instruction("hip_flexion_r", "flexion"), duration_s=3.0))
    'Push your right thigh forward as hard as you can'
    >>> spoken(Step("free", "knee_angle_l", "reach", "extension",
    ...             Instruction("knee_angle_l", "extension"), duration_s=3.0))
    'Straighten your left knee as far as you can'
    >>> spoken(Step("move", "knee_angle_l", "to_walking", target_rad=0.1, speed_rad_s=0.5))
    'Relax'
    """
    instruction = step.instruction
    if instruction.joint is None:
        return RELAX_TEXT
    kind, _, side = instruction.joint.rpartition("_")
    words = _WORDS.get((kind, instruction.direction))
    where = _SIDES.get(side, side)
    if words is None:  # a joint without words of its own: its name
        effort = f"Push your {instruction.joint.replace('_', ' ')} toward {instruction.direction}"
        words = (effort, effort.replace("Push", "Move", 1))
    push, move = (w.format(side=where) for w in words)
    return f"{move} as far as you can" if step.kind == "free" else f"{push} as hard as you can"
