"""Robot-based assessments: range of motion, isometric strength and joint stiffness, each a
procedure the control loop runs and an analysis of its recording; :mod:`.registry` names them."""
