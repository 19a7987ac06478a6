"""The GPU recipes of chapter ``ch-lab`` and ``book/teaching.md`` reproduce the configs they cite.

The recipes are parsed out of the notebook and the teaching guide themselves (their ``bash``
blocks, with shell variables expanded), read by the CLI's own parser into configs, and compared
value by value with the published configs below: each entry names the repository, the path and
the commit that was read, and gives the values in the config's own names (the YAML file's, with
the defaults of the repository's ``cfg.py`` where the file does not set them).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from klviz.distill import MODELS, StudentConfig, TrainConfig, validate
from klviz.distill.cli import build_parser
from klviz.losses import get_spec

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "notebooks" / "10_distillation_lab.ipynb"
TEACHING = ROOT / "book" / "teaching.md"

MDISTILLER = "a08d46f10d6102bd6e3f258ca5ac880b020ea259"  # megvii-research/mdistiller, HEAD read 2026-12-01
DKL = "c5e8ad2e24ec53f3682a68db99de372fc80f59ca"  # jiequancui/DKL, HEAD read 2026-12-01
CRD = "1143dfea41686c15a7a21c6f8959d7e074f043c3"  # HobbitLong/RepDistiller (CRD), version read 2026-12-01

#: the SOLVER block shared by every res32x4 -> res8x4 config below (identical in each file)
SOLVER = {"SOLVER.BATCH_SIZE": 64, "SOLVER.EPOCHS": 240, "SOLVER.LR": 0.05,
          "SOLVER.LR_DECAY_STAGES": [150, 180, 210], "SOLVER.LR_DECAY_RATE": 0.1,
          "SOLVER.WEIGHT_DECAY": 0.0005, "SOLVER.MOMENTUM": 0.9, "SOLVER.TYPE": "SGD",
          "DATASET.TYPE": "cifar100", "DISTILLER.TEACHER": "resnet32x4", "DISTILLER.STUDENT": "resnet8x4"}


@dataclass(frozen=True)
class Published:
    """One released config: where it was read and its values in its own names."""

    repo: str
    path: str
    commit: str
    values: dict[str, Any]
    #: where the defaults of values the file does not set come from
    defaults: str = ""
    #: klviz loss of the recipe that cites it (None: the teacher)
    loss: str | None = None
    notes: str = ""


PUBLISHED = {
    "teacher": Published(
        "HobbitLong/RepDistiller", "train_teacher.py", CRD,
        {"--batch_size": 64, "--epochs": 240, "--learning_rate": 0.05, "--lr_decay_epochs": "150,180,210",
         "--lr_decay_rate": 0.1, "--weight_decay": 5e-4, "--momentum": 0.9, "optimizer": "SGD",
         "--dataset": "cifar100", "--model": "resnet32x4"},
        notes="argparse defaults of CRD's teacher script (mdistiller loads its resnet32x4_vanilla/"
              "ckpt_epoch_240.pth: the last epoch); --model resnet32x4 is mdistiller's DISTILLER.TEACHER"),
    "kd": Published(
        "megvii-research/mdistiller", "configs/cifar100/kd.yaml", MDISTILLER,
        {**SOLVER, "DISTILLER.TYPE": "KD", "KD.TEMPERATURE": 4, "KD.LOSS.CE_WEIGHT": 0.1,
         "KD.LOSS.KD_WEIGHT": 0.9},
        defaults="mdistiller/engine/cfg.py (KD block)", loss="kd"),
    "dkd": Published(
        "megvii-research/mdistiller", "configs/cifar100/dkd/res32x4_res8x4.yaml", MDISTILLER,
        {**SOLVER, "DISTILLER.TYPE": "DKD", "DKD.CE_WEIGHT": 1.0, "DKD.ALPHA": 1.0, "DKD.BETA": 8.0,
         "DKD.T": 4.0, "DKD.WARMUP": 20},
        defaults="mdistiller/engine/cfg.py (DKD block)", loss="dkd",
        notes="the warm-up ramps per epoch (epoch/20 from epoch 1); klviz ramps per step to the same end"),
    "ikl": Published(
        "jiequancui/DKL", "DKLv1/KD-dkl/configs/cifar100/ikl_kd/res32x4_res8x4.yaml", DKL,
        {**SOLVER, "DISTILLER.TYPE": "IKL_KD", "IKL_KD.NUM_CLASSES": 100, "IKL_KD.ALPHA": 1.0,
         "IKL_KD.BETA": 8.0, "IKL_KD.T": 4.0, "IKL_KD.WARMUP": 20, "IKL_KD.CE_WEIGHT": 1.0,
         "IKL_KD.T2": 100.0, "IKL_KD.GI": False},
        defaults="DKLv1/KD-dkl/mdistiller/engine/cfg.py (CE_WEIGHT, T2, GI)", loss="ikl",
        notes="the warm-up ramps per epoch (epoch/20 from epoch 1); klviz ramps per step to the same end"),
    "gkl": Published(
        "jiequancui/DKL", "DKLv2/KD-dkl/cifar100_config_gkl/res32x4_res8x4.yaml", DKL,
        {**SOLVER, "DISTILLER.TYPE": "GKL_KD", "GKL_KD.NUM_CLASSES": 100, "GKL_KD.ALPHA": 1.0,
         "GKL_KD.BETA": 16.0, "GKL_KD.GAMMA": 0.05, "GKL_KD.T2": 4.0, "GKL_KD.GI": True, "GKL_KD.T": 4.0,
         "GKL_KD.WARMUP": 20, "GKL_KD.CE_WEIGHT": 1.0},
        defaults="DKLv2/KD-dkl/mdistiller/engine/cfg.py (CE_WEIGHT)", loss="gkl",
        notes="the warm-up ramps per epoch (epoch/20 from epoch 1); klviz ramps per step to the same end"),
}

#: config name -> klviz field, for the names every config shares
SHARED = {"SOLVER.BATCH_SIZE": "batch_size", "SOLVER.EPOCHS": "epochs", "SOLVER.LR": "lr",
          "SOLVER.LR_DECAY_STAGES": "milestones", "SOLVER.LR_DECAY_RATE": "lr_decay",
          "SOLVER.WEIGHT_DECAY": "weight_decay", "SOLVER.MOMENTUM": "momentum", "SOLVER.TYPE": "optimizer",
          "DATASET.TYPE": "dataset", "DISTILLER.STUDENT": "model"}
#: per loss: config name -> klviz field (``None``: checked separately)
NAMES = {
    "kd": {"KD.TEMPERATURE": "temperature", "KD.LOSS.CE_WEIGHT": "ce_weight", "KD.LOSS.KD_WEIGHT": "distill_weight"},
    "dkd": {"DKD.CE_WEIGHT": "ce_weight", "DKD.ALPHA": "alpha", "DKD.BETA": "beta", "DKD.T": "temperature",
            "DKD.WARMUP": "warmup_epochs"},
    # official convention: ALPHA weighs the soft-label CE and BETA the wMSE, as in the released code;
    # T2 is the temperature of the weights (per sample, or of the class means when GI is on)
    "ikl": {"IKL_KD.CE_WEIGHT": "ce_weight", "IKL_KD.ALPHA": "alpha", "IKL_KD.BETA": "beta", "IKL_KD.T": "temperature",
            "IKL_KD.WARMUP": "warmup_epochs", "IKL_KD.T2": "weight_temperature", "IKL_KD.GI": "class_weights"},
    "gkl": {"GKL_KD.CE_WEIGHT": "ce_weight", "GKL_KD.ALPHA": "alpha", "GKL_KD.BETA": "beta", "GKL_KD.T": "temperature",
            "GKL_KD.GAMMA": "gamma", "GKL_KD.WARMUP": "warmup_epochs", "GKL_KD.T2": "weight_temperature",
            "GKL_KD.GI": "class_weights"},
}
#: values the released code fixes without a config name: klviz field -> value
IMPLIED = {"kd": {}, "dkd": {"distill_weight": 1.0}, "ikl": {"distill_weight": 1.0, "convention": "official"},
           "gkl": {"distill_weight": 1.0, "convention": "official"}}
TEACHER_NAMES = {"--batch_size": "batch_size", "--epochs": "epochs", "--learning_rate": "lr",
                 "--lr_decay_epochs": "milestones", "--lr_decay_rate": "lr_decay", "--weight_decay": "weight_decay",
                 "--momentum": "momentum", "optimizer": "optimizer", "--dataset": "dataset", "--model": "model"}


# --------------------------------------------------------------------------- parsing the sources

def bash_blocks(markdown: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", markdown, flags=re.S)


def commands(block: str) -> list[list[str]]:
    """The ``python -m klviz.distill`` commands of a bash block, variables expanded, as argv lists."""
    env: dict[str, str] = {}
    out = []
    for line in block.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), m.group(0)), line)
        words = shlex.split(line, comments=True)
        m = re.fullmatch(r"([A-Z_]+)=(.*)", words[0]) if len(words) == 1 else None
        if m:
            env[m.group(1)] = m.group(2)
        elif words[:3] == ["python", "-m", "klviz.distill"]:
            out.append(words[3:])
    return out


def source_commands(path: Path) -> list[list[str]]:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.read_text()
    return [c for b in bash_blocks(text) for c in commands(b)]


def config_of(argv: list[str]) -> TrainConfig:
    a = vars(build_parser().parse_args(argv))
    cls = TrainConfig if a["command"] == "teacher" else StudentConfig
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in a.items() if k in names})


def effective(cfg: StudentConfig, name: str) -> Any:
    """A field's value as the run uses it: a loss hyper-parameter left at None takes the loss's default
    (the weight temperature then the temperature)."""
    v = getattr(cfg, name)
    if v is None and name == "weight_temperature":
        return effective(cfg, "temperature")
    if v is None:
        return {h.name: h.default for h in get_spec(cfg.loss).hypers}[name]
    return v


def same(published: Any, ours: Any) -> bool:
    if isinstance(published, str) and "," in published:
        published = [int(v) for v in published.split(",")]
    if isinstance(published, list):
        return list(ours) == published
    if isinstance(published, str):
        return str(ours).lower() == published.lower()
    if isinstance(published, bool):
        return ours is published
    return float(ours) == pytest.approx(float(published), rel=1e-12)


def cifar_recipes(path: Path) -> dict[str, TrainConfig]:
    """``{"teacher" | loss: config}`` of the CIFAR-100 commands of a source."""
    out = {}
    for argv in source_commands(path):
        cfg = config_of(argv)
        if cfg.dataset == "cifar100":
            key = "teacher" if cfg.kind == "teacher" else cfg.loss
            assert key not in out, f"{path.name}: two CIFAR-100 recipes for {key}"
            out[key] = cfg
    return out


# --------------------------------------------------------------------------- the tests

SOURCES = [LAB, TEACHING]


def test_the_parser_reads_variables_and_continuations():
    block = 'A="--x 1 \\\n  --y 2"\nB="$A --z 3"\n# python -m klviz.distill comment\npython -m klviz.distill s $B \\\n  --w 4\n'
    assert commands(block) == [["s", "--x", "1", "--y", "2", "--z", "3", "--w", "4"]]


def test_the_lab_has_a_recipe_for_every_published_config():
    assert set(cifar_recipes(LAB)) == set(PUBLISHED)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_every_cifar_recipe_reproduces_the_config_it_cites(source):
    recipes = cifar_recipes(source)
    assert recipes, f"{source.name} has no CIFAR-100 recipe"
    for key, cfg in recipes.items():
        pub = PUBLISHED[key]
        validate(cfg)
        if key == "teacher":
            for name, value in pub.values.items():
                ours = getattr(cfg, TEACHER_NAMES[name])
                assert same(value, ours), f"{source.name} teacher: {name} = {value} in {pub.path}, recipe has {ours}"
            continue
        assert cfg.loss == pub.loss
        for name, value in pub.values.items():
            if name in ("DISTILLER.TYPE", "DISTILLER.TEACHER") or name.endswith("NUM_CLASSES"):
                continue  # the loss and the teacher recipe are checked below; NUM_CLASSES: the data set's
            klviz_name = SHARED.get(name) or NAMES[key][name]
            ours = effective(cfg, klviz_name)
            assert same(value, ours), (f"{source.name} {key}: {name} = {value} in {pub.repo}/{pub.path}@{pub.commit[:7]},"
                                       f" recipe gives {klviz_name} = {ours}")
        for klviz_name, value in IMPLIED[key].items():
            assert same(value, effective(cfg, klviz_name)), f"{source.name} {key}: {klviz_name}"
        if "teacher" in recipes:
            teacher = recipes["teacher"]
            assert cfg.teacher == f"{teacher.run_dir}/last.pt", f"{source.name} {key}: distil from the teacher's last.pt"
            assert teacher.model == pub.values["DISTILLER.TEACHER"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_every_recipe_distils_from_the_last_checkpoint_and_names_a_real_model(source):
    cmds = source_commands(source)
    assert cmds, f"no python -m klviz.distill command in {source.name}"
    for argv in cmds:
        if argv[0] == "compare":
            continue
        cfg = config_of(argv)
        assert cfg.model in MODELS
        if cfg.kind == "student" and cfg.loss != "ce":
            assert cfg.teacher and cfg.teacher.endswith("last.pt"), f"{source.name}: {' '.join(argv)}"


def test_teaching_guide_names_the_lab_models():
    text = TEACHING.read_text()
    assert "cnn2d" not in text
    assert "resnet32x4" in text and "resnet8x4" in text


def test_every_entry_cites_repository_path_and_commit():
    for key, pub in PUBLISHED.items():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", pub.repo) and pub.path and re.fullmatch(r"[0-9a-f]{40}", pub.commit), key
