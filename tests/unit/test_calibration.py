import numpy as np
import pandas as pd

from simulation import calibration

NAN = np.nan


def client(**kw):
    row = {
        "referred": 0.0,
        "intake_start": NAN,
        "assessed": NAN,
        "iop_start": NAN,
        "iop_end": NAN,
        "status": "discharged",
        "exit_reason": "completed",
        "outcome": "iop",
        "replication": 0,
    }
    row.update(kw)
    return row


def test_compare_computes_each_measure_from_milestones():
    day = 24.0
    rows = [
        # assessed after 4 days, enrolled 10 days later, completed after 50 days
        client(
            intake_start=4 * day,
            assessed=4 * day + 1.5,
            iop_start=14 * day + 1.5,
            iop_end=64 * day + 1.5,
        ),
        # assessed after 8 days, enrolled 6 days later, dropped out after 20 days
        client(
            intake_start=8 * day,
            assessed=8 * day + 1.5,
            iop_start=14 * day + 1.5,
            iop_end=34 * day + 1.5,
            exit_reason="dropped_out",
        ),
        # lost before assessment
        client(status="lost"),
        # assessed for the IOP, gave up on its waitlist
        client(intake_start=2 * day, assessed=2 * day + 1.5, status="lost"),
        # assessed, referred on to other care: not lost to the waitlist
        client(
            intake_start=3 * day, assessed=3 * day + 1.5, status="referred_on", outcome="outpatient"
        ),
    ]
    table = calibration.compare(pd.DataFrame(rows), warmup_weeks=0).set_index("measure")
    assert (
        table.loc["Median days from first call to assessment", "simulated"] == 3.5
    )  # median of 4, 8, 2, 3
    assert (
        table.loc["Median days from assessment to enrolment", "simulated"] == 8.0
    )  # median of 10 and 6
    assert table.loc["Lost between first call and assessment", "simulated"] == 0.2
    # of the three assessed for the IOP, one gave up; the one referred on is not lost
    assert table.loc["Lost between assessment and enrolment", "simulated"] == 1 / 3
    assert table.loc["Left before 30 days in treatment", "simulated"] == 0.5
    assert table.loc["Discharges: completed", "simulated"] == 0.5
    assert table.loc["Median length of stay, completed", "simulated"] == 50.0
    assert table.loc["Median length of stay, dropped out or terminated", "simulated"] == 20.0
    assert not table.loc[
        "Median length of stay, dropped out or terminated", "within_range"
    ]  # 20 < 20.8
