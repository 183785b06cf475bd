"""Network guard: tests may only contact loopback. See guard.py and sitecustomize.py."""
