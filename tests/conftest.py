"""Suite-wide setup: the network guard first, then the live stack's fixtures.

netguard.pytest_plugin installs the guard when it is imported, before any test
module is collected, so nothing in the test process can reach anything but loopback
(see tests/netguard/guard.py); its autouse fixture fails a test that tried.
"""

pytest_plugins = ["netguard.pytest_plugin", "livestack.fixtures"]
