"""Installs the network guard in every Python process started with this folder on PYTHONPATH.

Python imports ``sitecustomize`` at start-up from sys.path, so a child process (the
``mcplint`` command run by the tests, the stack's Python servers) is guarded before it
runs a line of its own code. In a child a violation is logged to the file named by
MCPLINT_NETGUARD_LOG, printed as ``netguard: blocked connection to HOST:PORT`` on
stderr, and ends the process with exit code 97.
"""

import guard

guard.install(child=True)
