"""Safety: limits and the supervisor that sees every state and every command of the loop.

Small and dependency-light on purpose (numpy only). Faults are values, never exceptions.
"""
