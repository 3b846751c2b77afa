"""iopsim: capacity planning for Intensive Outpatient Programs (IOPs).

A discrete-event simulation (SimPy) of clients flowing from referral through intake,
waitlists, group-based IOP care, step-down to outpatient care and discharge.
"""

__version__ = "0.1.0"
