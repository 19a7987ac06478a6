"""klviz.distill.config: fields from the loss registry, one validate, the CLI generated from the fields."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from klviz.distill import CompareConfig, ConfigError, StudentConfig, TrainConfig, validate
from klviz.distill.cli import build_parser
from klviz.losses import REGISTRY, all_hypers


def test_one_student_field_per_registered_hyper_parameter():
    fields = {f.name: f for f in dataclasses.fields(StudentConfig)}
    for name, h in all_hypers().items():
        assert fields[name].default is None  # None: the loss's own default
        assert fields[name].metadata["help"] == h.help
    assert StudentConfig(temperature=2.0, beta=3.0).beta == 3.0
    assert StudentConfig.kind == "student" and TrainConfig.kind == "teacher"
    assert StudentConfig(loss="ce").objective == "ce" and StudentConfig().objective == "distill"
    assert TrainConfig().objective == "ce"


def test_configerror_is_the_package_wide_one():
    import klviz._checks

    assert ConfigError is klviz._checks.ConfigError and issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(("cfg", "world", "needle"), [
    (TrainConfig(dataset="mnist"), 1, "unknown data set 'mnist'; choose one of: mnist1d, digits, cifar10, cifar100"),
    (TrainConfig(model="vgg"), 1, "unknown model 'vgg'"),
    (TrainConfig(optimizer="lbfgs"), 1, "unknown optimizer 'lbfgs'"),
    (TrainConfig(epochs=0), 1, "epochs=0: use at least 1 epoch"),
    (TrainConfig(batch_size=101), 2, "multiple of the number of processes (2)"),
    (TrainConfig(lr=0.0), 1, "lr=0.0 must be positive"),
    (StudentConfig(loss="kld", teacher="t.pt"), 1, "unknown loss 'kld'"),
    (StudentConfig(loss="kd"), 1, "needs a teacher checkpoint"),
    (StudentConfig(loss="ce", temperature=2.0), 1, "loss 'ce' takes no distillation hyper-parameters; drop --temperature"),
    (StudentConfig(loss="kd", teacher="t.pt", gamma=0.5), 1, "--gamma does not apply to loss 'kd' (it takes: --temperature)"),
    (StudentConfig(loss="gkl", teacher="t.pt", weight_temperature=-1.0), 1, "weight_temperature=-1.0 must be positive"),
    (StudentConfig(loss="gkl", teacher="t.pt", convention="paper"), 1, "unknown convention 'paper'"),
    (StudentConfig(warmup_epochs=-1, teacher="t.pt"), 1, "warmup_epochs=-1 must be >= 0"),
    (StudentConfig(loss="kd", teacher="t.pt", class_weights=False), 1,
     "--no-class-weights does not apply to loss 'kd'"),
    (StudentConfig(loss="ce", class_weights=False), 1, "--no-class-weights does not apply to loss 'ce'"),
    # the loss's own checks, run before any training
    (StudentConfig(loss="gkl", teacher="t.pt", gamma=-1.0), 1, "loss 'gkl': gamma must lie in (0, inf)"),
    (StudentConfig(loss="js", teacher="t.pt", beta=2.0), 1, "loss 'js': beta must lie in [0, 1]"),
    (CompareConfig(losses=("ce", "foo")), 1, "unknown loss 'foo'"),
    (CompareConfig(seeds=0), 1, "seeds=0"),
    (CompareConfig(losses=()), 1, "losses is empty"),  # --losses ","
    (CompareConfig(losses=("kd", "ce", "kd")), 1, "losses names kd more than once"),
    # non-finite numbers would pass "> 0" and fail deep inside training
    (TrainConfig(lr=float("inf")), 1, "lr=inf must be a finite number"),
    (TrainConfig(weight_decay=float("inf")), 1, "weight_decay=inf must be a finite number"),
    (TrainConfig(seed=-1), 1, "seed=-1: use an int in [0, 2**63 - 1]"),
    (CompareConfig(first_seed=2**64), 1, "first_seed="),
])
def test_validate_names_the_problem(cfg, world, needle):
    with pytest.raises(ConfigError) as err:
        validate(cfg, world)
    assert needle in str(err.value)


def test_validate_accepts_the_defaults_and_rejects_wrong_types():
    validate(TrainConfig())
    validate(StudentConfig(teacher="t.pt"))
    validate(StudentConfig(loss="ce"))
    validate(CompareConfig())
    with pytest.raises(TypeError, match="lr must be a number"):
        validate(TrainConfig(lr="0.1"))
    with pytest.raises(TypeError, match="config instance"):
        validate(TrainConfig)


def _sub(name):
    return build_parser()._subparsers._group_actions[0].choices[name]


def test_every_field_has_one_flag_and_the_parser_keeps_no_defaults_of_its_own():
    for name, cls in (("teacher", TrainConfig), ("student", StudentConfig)):
        actions = {a.dest: a for a in _sub(name)._actions}
        for f in dataclasses.fields(cls):
            if f.metadata["cli"]:
                assert actions[f.name].default is argparse.SUPPRESS, (name, f.name)
    flags = {s for a in _sub("student")._actions for s in a.option_strings}
    assert {"--" + h.replace("_", "-") for h in all_hypers()} <= flags
    assert {"--quiet", "--no-deterministic", "--teacher", "--loss", "--milestones", "--hidden", "--channels"} <= flags
    cflags = {s for a in _sub("compare")._actions for s in a.option_strings}
    assert {"--out", "--losses", "--seeds", "--first-seed", "--teacher", "--teacher-model", "--student-model",
            "--teacher-epochs", "--temperature", "--ce-weight", "--quiet", "--force"} <= cflags
    assert "--run-dir" not in cflags and "--resume" not in cflags and "--loss" not in cflags


def test_parsed_options_reach_the_config():
    a = vars(build_parser().parse_args(["student", "--loss", "dkd", "--beta", "2", "--milestones", "3,5", "--quiet",
                                        "--no-deterministic", "--train-subset", "7"]))
    assert (a["loss"], a["beta"], a["milestones"], a["progress"], a["deterministic"], a["train_subset"]) == \
        ("dkd", 2.0, (3, 5), False, False, 7)
    assert "temperature" not in a and "epochs" not in a  # left out: the config's default applies
    assert set(REGISTRY) < set(_sub("student")._option_string_actions["--loss"].help.replace(",", " ").split())



def test_no_class_weights_flag_reaches_the_config():
    a = vars(build_parser().parse_args(["student", "--loss", "ikl", "--no-class-weights"]))
    assert a["class_weights"] is False
    assert "class_weights" not in vars(build_parser().parse_args(["student", "--loss", "ikl"]))
