r"""The VAE trainer on the runtime of :mod:`klviz.distill` (checkpoints, exact ``--resume``,
metrics files, progress bars, DDP and AMP unchanged): :class:`VAEConfig`, :class:`VAETask`,
:func:`train_vae` and the command ``python -m klviz.distill vae``.

Data: scikit-learn's digits (:func:`klviz.distill.data.digits_split`), pixels scaled to [0, 1]
(``raw_*``), 64 per image.  Objective: the :math:`\beta`-VAE loss :math:`D + \beta R` of
:mod:`klviz.vi.vae` (nats per image).  Metrics per epoch: ``train_rate``, ``train_distortion``,
and on the test images ``test_rate``, ``test_distortion``, ``test_elbo`` :math:`= -(D + R)` (the
monitored metric: ``best.pt`` has the highest), ``test_loss`` :math:`= D + \beta R`, the
per-dimension rate ``test_kl_0 .. test_kl_{k-1}`` and ``test_active_units``, the number of
latent dimensions whose average rate exceeds ``active_threshold`` (0.01 nats by default; a
dimension below it carries almost no information about :math:`x`: posterior collapse,
Bowman et al. 2016).  Chapter ``ch-vi``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from klviz.distill.checkpoint import CheckpointError, load_checkpoint
from klviz.distill.commands import command
from klviz.distill.config import TrainConfig, at_least_one, nonnegative, option, positive
from klviz.distill.data import digits_split
from klviz.distill.runtime import Runtime
from klviz.distill.task import StepResult, Task
from klviz.distill.train import RunResult, fit
from klviz.vi.vae import VAE, vae_terms

__all__ = ["VAEConfig", "VAETask", "load_vae", "train_vae"]

_V = "VAE"


@dataclass
class VAEConfig(TrainConfig):
    """Settings of a VAE run; the defaults train in a few seconds on a CPU (chapter ``ch-vi``)."""

    kind: ClassVar[str] = "vae"

    run_dir: str = option("runs/vae", help="where checkpoints (best.pt, last.pt) and metrics (metrics.json/.csv) go",
                          group="output", metavar="DIR", resume_free=True)
    dataset: str = option("digits", help="data set (pixels in [0, 1])", group="data", metavar="NAME",
                          choices=("digits",), noun="data set", default_text="digits, bundled with scikit-learn")
    model: str = option("mlp", help="architecture (MLP encoder and decoder)", group="model", metavar="NAME",
                        choices=("mlp",), noun="model")
    epochs: int = option(40, help="training epochs", group="optimisation", metavar="N", check=at_least_one)
    lr: float = option(3e-3, help="learning rate", group="optimisation", check=positive)
    latent_dim: int = option(8, help="latent dimensions k", group=_V, metavar="K", check=at_least_one)
    hidden: int = option(128, help="hidden units of the encoder and of the decoder", group=_V, metavar="H",
                         check=at_least_one)
    beta: float = option(1.0, help="weight of the rate in the loss D + beta R (beta = 1: the negative ELBO)",
                         group=_V, check=nonnegative)
    active_threshold: float = option(0.01, help="a latent dimension is active when its average KL exceeds this "
                                     "(nats)", group=_V, metavar="NATS", check=positive)


class VAETask(Task):
    """Train a :class:`~klviz.vi.vae.VAE` on the digits' pixels with :math:`D + \\beta R`."""

    monitor = "test_elbo"

    def setup(self, rt: Runtime) -> None:
        super().setup(rt)
        cfg, dev = self.cfg, rt.device
        split = digits_split()
        self.x_train = torch.from_numpy(split.raw_train[: cfg.train_subset]).to(dev)
        self.x_test = torch.from_numpy(split.raw_test[: cfg.test_subset]).to(dev)
        # one fixed noise draw for the test set: every evaluation sees the same eps (common
        # random numbers), so the curves move only when the model does, whatever the world size
        gen = torch.Generator().manual_seed(cfg.seed + 1)
        self.eps_test = torch.randn(len(self.x_test), cfg.latent_dim, generator=gen).to(dev)

    def build_model(self) -> nn.Module:
        return VAE(self.x_train.shape[1], self.cfg.latent_dim, self.cfg.hidden)

    def num_train(self) -> int:
        return len(self.x_train)

    def start_epoch(self, epoch: int) -> None:
        # training noise from (seed, epoch) alone: a resumed run draws the same eps
        seed = (self.cfg.seed * 1_000_003 + epoch) * 1009
        self.gen = torch.Generator(device=self.rt.device).manual_seed(seed)

    def step(self, net: nn.Module, idx: torch.Tensor, step: int, steps_per_epoch: int) -> StepResult:
        xb = self.x_train[idx.to(self.rt.device)]
        # every rank draws the noise of the whole global batch and keeps its positions r, r + world,
        # ... (those of its examples, see klviz.distill.batches): N processes use one process's eps
        ctx = self.rt.dist
        eps = torch.randn(len(xb) * ctx.world, self.cfg.latent_dim, generator=self.gen,
                          device=self.rt.device)[ctx.rank :: ctx.world]
        with self.rt.autocast():
            logits, mu, logvar = net(xb, eps)
        distortion, rate = vae_terms(logits.float(), mu.float(), logvar.float(), xb)
        rate = rate.sum(-1)
        loss = (distortion + self.cfg.beta * rate).mean()
        return StepResult(loss, {"rate": rate.mean(), "distortion": distortion.mean()}, None, len(xb))

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Test rate, distortion, ELBO, loss, per-dimension rate and active units (nats per image)."""
        ctx, x = self.rt.dist, self.x_test
        was_training = model.training
        model.eval()
        idx = torch.arange(ctx.rank, len(x), ctx.world, device=x.device)
        with self.rt.autocast():
            logits, mu, logvar = model(x[idx], self.eps_test[idx])
        distortion, rate = vae_terms(logits.float(), mu.float(), logvar.float(), x[idx])
        sums = ctx.all_reduce(torch.cat([distortion.sum(0, keepdim=True), rate.sum(0)]).double()) / len(x)
        model.train(was_training)
        d, per_dim = float(sums[0]), sums[1:].tolist()
        r = float(sum(per_dim))
        return {"test_rate": r, "test_distortion": d, "test_elbo": -(d + r), "test_loss": d + self.cfg.beta * r,
                "test_active_units": sum(v > self.cfg.active_threshold for v in per_dim),
                **{f"test_kl_{j}": v for j, v in enumerate(per_dim)}}

    def model_record(self, model: nn.Module) -> dict[str, Any]:
        return {"model": "vae-mlp", "pixels": model.pixels, "latent_dim": model.latent_dim,
                "hidden": self.cfg.hidden, **super().model_record(model)}

    def info(self) -> dict[str, Any]:
        return {"likelihood": "bernoulli", "units": "nats per image", "beta": self.cfg.beta,
                "active_threshold": self.cfg.active_threshold}


def train_vae(config: VAEConfig | None = None, *, epoch_callback=None, **overrides: Any) -> RunResult:
    r"""Train a VAE with :math:`D + \beta R` through :func:`klviz.distill.fit`
    (``train_vae(beta=4.0, run_dir=...)``); ``best_test_acc``/``last_test_acc`` of the result hold
    the best and last ``test_elbo``.  Chapter ``ch-vi``."""
    cfg = dataclasses.replace(config or VAEConfig(), **overrides)
    return fit(cfg, VAETask(cfg), epoch_callback=epoch_callback)


def load_vae(path: str | os.PathLike) -> VAE:
    """Rebuild the VAE of a run's ``best.pt`` or ``last.pt`` (on the CPU, in eval mode)."""
    hint = "pass the best.pt or last.pt of a VAE run (python -m klviz.distill vae --run-dir runs/vae)"
    ck = load_checkpoint(path, what="VAE checkpoint", hint=hint)
    if ck.get("model") != "vae-mlp":
        raise CheckpointError(f"{path} is not a VAE checkpoint (model {ck.get('model')!r}); {hint}")
    model = VAE(ck["pixels"], ck["latent_dim"], ck["hidden"])
    model.load_state_dict(ck["model_state"])
    return model.eval()


@command("vae", config=VAEConfig, help="train a VAE (beta-VAE) on the digits' pixels",
         description="Train a VAE with the loss D + beta R (Bernoulli likelihood, nats per image) on scikit-learn's "
                     "digits; writes best.pt, last.pt, metrics.json, metrics.csv.")
def _run(cfg: VAEConfig) -> None:
    res = train_vae(cfg)
    if int(os.environ.get("RANK", "0")) == 0:
        h = res.history[-1]
        print(f"{res.run_dir}: test ELBO {h['test_elbo']:.2f} nats per image (rate {h['test_rate']:.2f}, distortion "
              f"{h['test_distortion']:.2f}), {h['test_active_units']} of {cfg.latent_dim} latent dimensions active "
              f"(KL > {cfg.active_threshold:g} nats); {len(res.history)} epochs, {res.wall_time_s:.1f} s")
