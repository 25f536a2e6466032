"""`latentlab FILE` opens the app on FILE, as the docs and file managers say it."""

from __future__ import annotations

import pytest

from latentlab.cli import build_parser, main, open_file_form


def test_a_file_path_becomes_the_gui_with_that_model(tmp_path):
    model = tmp_path / "faces.latentlab"
    model.write_bytes(b"x")
    words = open_file_form([str(model)])
    assert words == ["gui", "--model", str(model)]
    args = build_parser().parse_args(words)
    assert args.command == "gui" and args.model == str(model)
    assert open_file_form(["--debug", str(model)]) == ["--debug", "gui", "--model", str(model)]


def test_commands_and_option_values_are_left_alone(tmp_path):
    (tmp_path / "info").write_bytes(b"x")  # a file named like a command is still the command
    assert open_file_form(["info", "m.safetensors"]) == ["info", "m.safetensors"]
    assert open_file_form(["--model", str(tmp_path / "info")]) == [
        "--model",
        str(tmp_path / "info"),
    ]


def test_a_path_that_does_not_exist_is_an_unknown_command_in_two_lines(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["no-such-file.latentlab"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "unknown command 'no-such-file.latentlab'" in err and err.count("\n") == 2
