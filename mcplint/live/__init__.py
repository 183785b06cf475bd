"""Live verification: gather evidence from the real endpoints, as the hosted client would.

Probes record what they saw (live facts); the same policy engine as `check` judges them.
Nothing here is imported by `mcplint check`.
"""
