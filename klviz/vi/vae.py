r"""A small VAE for 8x8 digit images: MLP encoder and decoder, a diagonal Gaussian encoder
:math:`q_\phi(z \mid x) = \mathcal N(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x))`, the prior
:math:`\mathcal N(\mathbf 0, I)` and a Bernoulli likelihood on pixels in [0, 1].

Per image, the **rate** is :math:`R = D_{\mathrm{KL}}(q_\phi(z \mid x) \| p(z))` (closed form,
:func:`klviz.info.vae_kl`) and the **distortion** is :math:`D = -\log p_\theta(x \mid z)` at one
reparameterised sample :math:`z = \mu + \sigma \odot \varepsilon`, the binary cross-entropy of the
pixel intensities against the decoder's probabilities summed over the 64 pixels; both in nats per
image.  The negative ELBO is :math:`D + R` and the :math:`\beta`-VAE loss is :math:`D + \beta R`
(Higgins et al. 2017; rate and distortion after Alemi et al. 2018).  For grey levels strictly
between 0 and 1 the Bernoulli "likelihood" is a cross-entropy, not a normalised density, so its
values are comparable between models of this book, not with papers using binarised images.
Kingma & Welling (2014); Rezende et al. (2014).  Chapter ``ch-vi``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from klviz import _checks as checks
from klviz.info import vae_kl

__all__ = ["VAE", "vae_terms"]


class VAE(nn.Module):
    """Encoder ``pixels -> hidden -> (mu, logvar)`` and decoder ``z -> hidden -> pixel logits``,
    one hidden layer of ``hidden`` units (ReLU) each.  ``forward(x, eps)`` takes the standard
    normal noise from the caller, so the randomness is the caller's to seed.  Chapter ``ch-vi``."""

    def __init__(self, pixels: int = 64, latent_dim: int = 8, hidden: int = 128) -> None:
        super().__init__()
        self.pixels = checks.positive_int(pixels, "pixels")
        self.latent_dim = checks.positive_int(latent_dim, "latent_dim")
        hidden = checks.positive_int(hidden, "hidden")
        self.encoder = nn.Sequential(nn.Linear(pixels, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, pixels))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of :math:`q(z \\mid x)`, each ``(B, latent_dim)``."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits of :math:`p(x \\mid z)` (``torch.sigmoid`` gives the pixel means)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * eps  # the reparameterisation: gradients flow to mu, logvar
        return self.decode(z), mu, logvar


def vae_terms(logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
              x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Per-example distortion :math:`D` (shape ``(B,)``) and per-dimension rate
    :math:`R_j = \tfrac12(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2)` (shape ``(B, k)``), in nats,
    computed in float32 (or the inputs' wider dtype).  ``x`` holds pixel intensities in [0, 1];
    the distortion is ``binary_cross_entropy_with_logits`` summed over pixels (log-space, stable
    for any logit).  Chapter ``ch-vi``."""
    for t, name in ((logits, "logits"), (mu, "mu"), (logvar, "logvar"), (x, "x")):
        checks.tensor(t, name, floating=True, dims=(2,))
    if logits.shape != x.shape or mu.shape != logvar.shape or mu.shape[0] != x.shape[0]:
        raise ValueError(f"logits {tuple(logits.shape)} must match x {tuple(x.shape)}, and mu "
                         f"{tuple(mu.shape)} logvar {tuple(logvar.shape)} with the same batch")
    wide = torch.promote_types(logits.dtype, torch.float32)
    distortion = F.binary_cross_entropy_with_logits(logits.to(wide), x.to(wide), reduction="none").sum(-1)
    rate = vae_kl(mu.to(wide), logvar.to(wide), axis=None)
    return distortion, rate
