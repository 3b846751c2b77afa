import pandas as pd
import pytest

from simulation import outputs
from simulation.cli import safe_text


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "a/b\\c",
        "..",
        "",
        "<script>alert(1)</script>",
        "clinic\x00name",
        "x" * 500,
        "été 🌞",
    ],
)
def test_folder_names_are_safe(name):
    safe = outputs.safe_name(name)
    assert safe and len(safe) <= 60
    assert "/" not in safe and "\\" not in safe and ".." not in safe and "\x00" not in safe
    assert set(safe) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def test_terminal_text_shows_control_characters_instead_of_obeying_them():
    assert safe_text("clinic\x1b[2J\x07") == "clinic\\x1b[2J\\x07"
    assert safe_text("été 🌞") == "été 🌞"


def test_csv_cells_cannot_become_spreadsheet_formulas():
    table = pd.DataFrame(
        {"scenario": ['=HYPERLINK("x")', "+1", "plain", "-cmd"], "mean": [1.0, -2.0, 3.0, 4.0]}
    )
    text = outputs.csv_text(table)
    assert "'=HYPERLINK" in text and "'+1" in text and "'-cmd" in text
    assert ",-2.0" in text  # numbers are left alone


def test_write_folder_is_all_or_nothing(tmp_path):
    class Boom:
        def __str__(self):
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        outputs.write_folder(tmp_path / "run", {"a.csv": pd.DataFrame({"x": [1]}), "b.txt": Boom()})
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its temporary sibling
    outputs.write_folder(tmp_path / "run", {"a.txt": "first"})
    with pytest.raises(outputs.OutputError, match="already exists"):
        outputs.write_folder(tmp_path / "run", {"a.txt": "second"})
    assert (tmp_path / "run" / "a.txt").read_text() == "first"
    outputs.write_folder(tmp_path / "run", {"a.txt": "second"}, force=True)
    assert (tmp_path / "run" / "a.txt").read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_the_terminals_group_table_leaves_out_groups_it_has_no_column_for():
    """A level of care's KPIs (census, waits of its own) have no column in the terminal's
    table by group: a row of blanks for it said nothing; the groups with columns stay."""
    from simulation.cli.text import group_lines

    summary = pd.DataFrame(
        {
            "kpi": [
                "wait_to_iop_days_p90[track=morning]",
                "wait_to_iop_days_p90[track=evening]",
                "level_census_mean[level=php]",
            ],
            "mean": [20.0, 30.0, 8.0],
        }
    )
    lines = group_lines(summary)
    assert [line.split()[0] for line in lines[2:]] == ["track=morning", "track=evening"]
