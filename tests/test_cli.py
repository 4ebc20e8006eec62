"""The command-line layer's one convention: unknown commands named, --version, and the
exit status of every command (0 ok, 1 some inputs failed, 2 usage or configuration
error before any work, 130 interrupted)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from whosaid import __version__
from whosaid.cli import COMMANDS, main


def test_unknown_command_is_named(capsys):
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'frobnicate'" in err and "commands:" in err


def test_version_and_usage(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"whosaid {__version__}"
    assert main([]) == 2
    assert "Exit status: 0 ok, 1 some inputs failed, 2 usage or configuration error" in capsys.readouterr().out


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "whosaid", "frobnicate"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2 and "unknown command 'frobnicate'" in proc.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_usage_errors_exit_2_for_every_command(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--no-such-option-here"])
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_ctrl_c_is_one_line_and_130(monkeypatch, capsys):
    import whosaid.cli.stats as stats

    def interrupted(argv):
        raise KeyboardInterrupt

    monkeypatch.setattr(stats, "main", interrupted)
    assert main(["stats", "x"]) == 130
    assert capsys.readouterr().err.strip() == "whosaid stats: interrupted"


def test_some_inputs_failed_is_1(tmp_path, capsys):
    good = tmp_path / "a.txt"
    good.write_text("One two three.")
    assert main(["stats", str(good), str(tmp_path / "missing.txt")]) == 1
    captured = capsys.readouterr()
    assert "missing.txt: no such file or directory" in captured.err and "articles" in captured.out


@pytest.mark.parametrize("argv", [["predict", "x.txt"], ["evaluate", "--data", "x.json"], ["silver-eval"],
                                  ["speakers-eval"]])
def test_missing_model_directory_is_told_before_torch_loads(argv, tmp_path):
    argv = [argv[0], "--model", str(tmp_path / "nope"), *argv[1:]]
    code = f"import sys; from whosaid.cli import main; rc = main({argv!r}); print(rc, 'torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.stdout.split() == ["2", "False"], proc.stderr[-2000:]
    assert "model directory not found" in proc.stderr
