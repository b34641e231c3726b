"""The suite's reconnect timing: the services' real policy at small numbers.

0.1 s doubling to 0.25 s (not 0.5 s to 10 s), so a stopped server is found back within a
quarter second and tests/integration/test_nats_outage.py can outlast the old give-up (60 attempts) in
seconds.
"""

RECONNECT_CAP_S = 0.25
TEST_RECONNECT = {"RECONNECT_WAIT_S": "0.1", "RECONNECT_MAX_WAIT_S": str(RECONNECT_CAP_S)}
