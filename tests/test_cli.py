"""The ``sb3-pg`` command."""

import pytest

from sb3_pg.cli import main


def test_train_prints_evaluation(capsys, tmp_path):
    argv = ["train", "--algo", "pg_a2c", "--timesteps", "200", "--eval-episodes", "2", "--save", str(tmp_path / "m.zip")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "deterministic evaluation over 2 episodes" in out
    assert (tmp_path / "m.zip").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--env", "NoSuchEnv-v0"], "--env"),
        (["train", "--algo", "ppo"], "--algo"),
        (["train", "--timesteps", "0"], "--timesteps"),
    ],
)
def test_bad_input_exits_2(argv, message, capsys):
    with pytest.raises(SystemExit) as error:
        main(argv)
    assert error.value.code == 2
    assert message in capsys.readouterr().err


def test_save_never_overwrites(tmp_path, capsys):
    saved = tmp_path / "model.zip"
    saved.write_bytes(b"a user's model")
    with pytest.raises(SystemExit):
        main(["train", "--timesteps", "10", "--save", str(saved)])
    assert saved.read_bytes() == b"a user's model"
    assert "exists" in capsys.readouterr().err
