"""torch.distributions: probability distributions with sampling, reparameterized sampling,
log densities, moments and KL divergences, written on lightgrad's tensor ops (so everything
is differentiable through autograd). `from lightgrad.distributions import Normal`."""
from . import constraints, kl
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Dirichlet", "Distribution", "ExponentialFamily",
           "Gamma", "Independent", "MultivariateNormal", "Normal", "Uniform", "kl_divergence",
           "register_kl", "constraints", "kl"]
