"""Sessions: the runner (plan, bring up the plant, run, finalize), the session process and its
link for the console, their messages, and replay of a recorded session."""
