"""Functional forms of the layers and losses (``ember.nn.functional``, usually imported as ``F``).

One module per family:

- :mod:`.dense`: linear, bilinear, flatten
- :mod:`.activations`: relu, relu6, gelu, silu, tanh, sigmoid, leaky_relu, elu, softplus,
  selu, celu, mish, hardswish, hardsigmoid, hardtanh, logsigmoid, softsign, tanhshrink, threshold,
  glu, prelu, hardshrink, softshrink, and the in-place forms relu_, elu_, leaky_relu_, hardtanh_,
  threshold_, celu_, selu_, and rrelu, rrelu_
- :mod:`.softmax_family`: softmax, log_softmax, softmin
- :mod:`.regularization`: dropout, dropout1d, dropout2d, dropout3d, alpha_dropout,
  feature_alpha_dropout
- :mod:`.padding`: pad
- :mod:`.convolution`: conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, unfold, fold, and
  unfold2d, the im2col window op under convolution and pooling
- :mod:`.pooling`: max_pool1d/2d, avg_pool1d/2d
- :mod:`.adaptive_pooling`: adaptive_avg_pool1d/2d, adaptive_max_pool1d/2d
- :mod:`.normalization`: batch_norm, layer_norm, group_norm, rms_norm, instance_norm,
  local_response_norm, normalize
- :mod:`.sparse`: embedding, embedding_bag, one_hot
- :mod:`.losses`: cross_entropy, nll_loss, binary_cross_entropy, binary_cross_entropy_with_logits,
  kl_div, and the reduction helpers the loss modules share
- :mod:`.regression_losses`: mse_loss, l1_loss, smooth_l1_loss, huber_loss, poisson_nll_loss,
  gaussian_nll_loss
- :mod:`.margin_losses`: soft_margin_loss, multilabel_soft_margin_loss, margin_ranking_loss,
  triplet_margin_loss, cosine_embedding_loss
- :mod:`.ctc`: ctc_loss
- :mod:`.attention`: scaled_dot_product_attention
- :mod:`.distance`: cosine_similarity, pairwise_distance
- :mod:`.vision`: interpolate (upsample), grid_sample, pixel_shuffle, pixel_unshuffle

Most of these are composites of core ops, so they run on any backend that has those ops and
differentiate through the core ops' backwards. Three pieces are ops of their own, with a forward
and a hand-written backward side by side in their module: unfold2d (which drives the device's
raw kernels), max_pool2d's first-maximum gradient and binary_cross_entropy's elementwise loss.

The private helpers are re-exported too: ``ember.nn.layers`` uses ``_pair``, ``_conv_padding``
and ``_safe_softmax``.
"""

from .activations import (
    _maybe_inplace,
    _relu6,
    celu,
    celu_,
    elu,
    elu_,
    gelu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    sigmoid,
    silu,
    softplus,
    softshrink,
    softsign,
    tanh,
    tanhshrink,
    threshold,
    threshold_,
)
from .adaptive_pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
)
from .attention import _safe_softmax, scaled_dot_product_attention
from .convolution import (
    _conv_padding,
    _fold_op,
    _fold_raw,
    _out_size,
    _Pair,
    _pair,
    _unfold_op,
    _unfold_raw,
    _window_layout,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    unfold,
    unfold2d,
)
from .ctc import ctc_loss
from .dense import bilinear, flatten, linear
from .distance import cosine_similarity, pairwise_distance
from .losses import (
    _BCE_EPS,
    _REDUCTIONS,
    _bce,
    _check_reduction,
    _check_same_shape,
    _check_targets,
    _class_last,
    _reduce,
    _weighted_mean,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    kl_div,
    nll_loss,
)
from .margin_losses import (
    cosine_embedding_loss,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from .normalization import (
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    local_response_norm,
    normalize,
    rms_norm,
)
from .padding import pad
from .pooling import (
    _avg_divisors,
    _max_first,
    _pool_args,
    _pool_out_size,
    _pool_pad,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from .regression_losses import (
    gaussian_nll_loss,
    huber_loss,
    l1_loss,
    mse_loss,
    poisson_nll_loss,
    smooth_l1_loss,
)
from .regularization import alpha_dropout, dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout
from .softmax_family import _softmax_dim, log_softmax, softmax, softmin
from .sparse import embedding, embedding_bag, one_hot
from .vision import grid_sample, interpolate, pixel_shuffle, pixel_unshuffle, upsample

__all__ = [
    "linear",
    "bilinear",
    "relu",
    "relu6",
    "gelu",
    "silu",
    "tanh",
    "sigmoid",
    "leaky_relu",
    "elu",
    "softplus",
    "softmax",
    "log_softmax",
    "selu",
    "celu",
    "mish",
    "hardswish",
    "hardsigmoid",
    "hardtanh",
    "logsigmoid",
    "softsign",
    "tanhshrink",
    "threshold",
    "glu",
    "prelu",
    "hardshrink",
    "softshrink",
    "softmin",
    "relu_",
    "elu_",
    "leaky_relu_",
    "hardtanh_",
    "threshold_",
    "celu_",
    "selu_",
    "rrelu",
    "rrelu_",
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
    "feature_alpha_dropout",
    "pad",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "unfold",
    "fold",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "max_pool1d",
    "avg_pool1d",
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "batch_norm",
    "layer_norm",
    "group_norm",
    "rms_norm",
    "instance_norm",
    "local_response_norm",
    "embedding",
    "one_hot",
    "embedding_bag",
    "normalize",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "margin_ranking_loss",
    "triplet_margin_loss",
    "cosine_embedding_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "ctc_loss",
    "unfold2d",
    "scaled_dot_product_attention",
    "flatten",
    "interpolate",
    "upsample",
    "pixel_shuffle",
    "pixel_unshuffle",
    "grid_sample",
    "cosine_similarity",
    "pairwise_distance",
]
