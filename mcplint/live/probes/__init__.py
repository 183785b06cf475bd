"""One module per protocol step the hosted client takes: what it sends and how it reads the
answer. Probes fetch through the session (mcplint/live/session.py) and leave their facts,
shaped by mcplint/live/evidence.py, in it; the order of the steps is mcplint/live/verify.py's.
"""
