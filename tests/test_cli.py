from __future__ import annotations

import pytest

from fugue_lab.cli import main


def test_tour_lists_every_guide_topic(capsys):
    assert main(["tour", "--list"]) == 0
    out = capsys.readouterr().out
    for topic in ("memory", "numerical", "construction", "copy-on-write", "vectorized",
                  "monitoring", "batch", "precision", "testing", "deployment"):
        assert topic in out


def test_tour_runs_a_topic_and_prints_its_tables(capsys):
    assert main(["tour", "--topics", "numerical-stability"]) == 0
    out = capsys.readouterr().out
    assert "Numerical Stability" in out and "log_sum_exp" in out and "Tour finished" in out


def test_tour_rejects_an_unknown_topic():
    with pytest.raises(SystemExit, match="unknown topic 'nope'"):
        main(["tour", "--topics", "nope"])


def test_bench_passes_its_options_to_the_suite(tmp_path, capsys):
    out = tmp_path / "w5.csv"
    assert main(["bench", "--quick", "--no-peers", "--workloads", "W5", "--out", str(out)]) == 0
    text = out.read_text()
    assert "W5" in text and "ratio_to_floor" in text


def test_unknown_options_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["tour", "--bogus"])
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "usage: fugue-lab" in capsys.readouterr().out
