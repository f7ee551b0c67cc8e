"""Assessment: gait events, metrics and summaries computed from recorded sessions."""
