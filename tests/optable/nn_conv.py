"""Op-table entries for convolution, pooling and the spatial functions (small shapes)."""
import numpy as np

from .entry import Op


def F(m):
    return m.nn.functional


def _distinct(shape, rng):
    """Well-separated values, so max pooling's argmax survives gradcheck's nudges."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - n * 0.05).reshape(shape)


ENTRIES = [
    Op("conv2d", lambda m, x, w, b: F(m).conv2d(x, w, b), [(2, 2, 4, 3), (3, 2, 2, 2), (3,)]),
    Op("conv2d", lambda m, x, w, b: F(m).conv2d(x, w, b, stride=2, padding=(1, 0),
                                                dilation=(1, 2), groups=2),
       [(1, 4, 5, 5), (2, 2, 2, 2), (2,)], id="conv2d-strided-groups"),
    Op("conv2d", lambda m, x, w: F(m).conv2d(x, w, padding="same"), [(1, 1, 3, 4), (2, 1, 2, 3)],
       id="conv2d-same"),
    Op("conv2d", lambda m, x, w: F(m).conv2d(x, w, padding=2), [(2, 3, 3), (1, 2, 1, 2)],
       id="conv2d-unbatched-widepad"),
    Op("conv1d", lambda m, x, w, b: F(m).conv1d(x, w, b, stride=2, padding=1),
       [(2, 2, 5), (3, 2, 3), (3,)]),
    Op("conv_transpose2d", lambda m, x, w, b: F(m).conv_transpose2d(
        x, w, b, stride=2, padding=1, output_padding=1), [(1, 2, 2, 3), (2, 3, 3, 2), (3,)]),
    Op("conv_transpose2d", lambda m, x, w: F(m).conv_transpose2d(x, w, groups=2, dilation=2),
       [(1, 4, 2, 2), (4, 1, 2, 2)], id="conv_transpose2d-groups"),
    Op("conv_transpose1d", lambda m, x, w, b: F(m).conv_transpose1d(x, w, b, stride=3),
       [(2, 2, 3), (2, 1, 2), (1,)]),
    Op("max_pool2d", lambda m, x: F(m).max_pool2d(x, 2), [(1, 2, 4, 4)],
       domain=_distinct),
    Op("max_pool2d", lambda m, x: F(m).max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                  return_indices=True),
       [(2, 5, 4)], domain=_distinct, id="max_pool2d-pad-ceil-indices"),
    Op("max_pool2d", lambda m, x: F(m).max_pool2d(x, (2, 2), stride=1, dilation=2),
       [(1, 1, 4, 5)], domain=_distinct, id="max_pool2d-dilated-overlap"),
    Op("max_pool1d", lambda m, x: F(m).max_pool1d(x, 2, stride=1), [(2, 2, 5)],
       domain=_distinct),
    Op("avg_pool2d", lambda m, x: F(m).avg_pool2d(x, 2), [(1, 2, 4, 4)]),
    Op("avg_pool2d", lambda m, x: F(m).avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                  count_include_pad=False),
       [(1, 2, 4, 5)], id="avg_pool2d-pad-ceil"),
    Op("avg_pool2d", lambda m, x: F(m).avg_pool2d(x, 2, stride=1, divisor_override=3),
       [(2, 3, 3)], id="avg_pool2d-divisor"),
    Op("avg_pool1d", lambda m, x: F(m).avg_pool1d(x, 3, stride=2, padding=1), [(2, 2, 5)]),
    Op("adaptive_avg_pool2d", lambda m, x: F(m).adaptive_avg_pool2d(x, (2, 3)),
       [(1, 2, 5, 4)]),
    Op("adaptive_avg_pool2d", lambda m, x: F(m).adaptive_avg_pool2d(x, 1), [(2, 2, 3, 3)],
       id="adaptive_avg_pool2d-global"),
    Op("adaptive_avg_pool1d", lambda m, x: F(m).adaptive_avg_pool1d(x, 3), [(2, 2, 5)]),
    Op("adaptive_max_pool2d", lambda m, x: F(m).adaptive_max_pool2d(x, (2, 2)),
       [(1, 2, 5, 3)], domain=_distinct),
    Op("pad", lambda m, x: F(m).pad(x, (1, 2)), [(2, 3)]),
    Op("pad", lambda m, x: F(m).pad(x, (1, -1, 0, 2), value=1.5), [(2, 3, 3)],
       id="pad-constant-crop"),
    Op("pad", lambda m, x: F(m).pad(x, (2, 1, 1, 2), mode="reflect"), [(1, 2, 3, 4)],
       id="pad-reflect"),
    Op("pad", lambda m, x: F(m).pad(x, (1, 2), mode="replicate"), [(2, 3)],
       id="pad-replicate"),
    Op("pad", lambda m, x: F(m).pad(x, (1, 1, 2, 0), mode="circular"), [(1, 1, 3, 3)],
       id="pad-circular"),
    Op("interpolate", lambda m, x: F(m).interpolate(x, scale_factor=2), [(1, 1, 2, 3)]),
    Op("interpolate", lambda m, x: F(m).interpolate(x, size=(3, 5), mode="bilinear"),
       [(1, 2, 2, 3)], id="interpolate-bilinear"),
    Op("interpolate", lambda m, x: F(m).interpolate(x, size=4, mode="linear",
                                                    align_corners=True),
       [(1, 2, 3)], id="interpolate-linear-corners"),
    Op("interpolate", lambda m, x: F(m).interpolate(x, size=(4, 2), mode="bicubic"),
       [(1, 2, 3, 3)], id="interpolate-bicubic"),
    Op("interpolate", lambda m, x: F(m).interpolate(x, scale_factor=(1.5, 0.7), mode="bicubic",
                                                    align_corners=True),
       [(2, 1, 2, 4)], id="interpolate-bicubic-corners"),
    Op("interpolate", lambda m, x: F(m).interpolate(x, scale_factor=1.7, mode="bicubic"),
       [(1, 1, 3, 2)], id="interpolate-bicubic-scale"),
    Op("interpolate", lambda m, x: F(m).interpolate(x, scale_factor=(0.5, 1.5), mode="bicubic",
                                                    antialias=True),
       [(1, 1, 5, 2)], id="interpolate-bicubic-antialias"),
    Op("interpolate", lambda m, x: F(m).interpolate(x, scale_factor=(2, 1.5, 0.5),
                                                    mode="trilinear"),
       [(1, 2, 2, 2, 3)], id="interpolate-trilinear"),
    Op("interpolate", lambda m, x: F(m).interpolate(x, size=(3, 2, 2), mode="trilinear",
                                                    align_corners=True),
       [(1, 1, 2, 3, 2)], id="interpolate-trilinear-corners"),
    Op("interpolate", lambda m, x: F(m).interpolate(x, scale_factor=1.5), [(1, 1, 2, 2, 3)],
       id="interpolate-nearest3d"),
    Op("unfold", lambda m, x: F(m).unfold(x, 2, padding=1, stride=2), [(1, 2, 3, 3)]),
    Op("fold", lambda m, x: F(m).fold(x, (3, 4), 2), [(1, 4, 6)]),
    Op("pixel_shuffle", lambda m, x: F(m).pixel_shuffle(x, 2), [(1, 4, 2, 3)]),
    Op("pixel_unshuffle", lambda m, x: F(m).pixel_unshuffle(x, 2), [(1, 1, 4, 2)]),
]

# 3-d convolution and pooling
ENTRIES += [
    Op("conv3d", lambda m, x, w, b: F(m).conv3d(x, w, b), [(1, 2, 3, 3, 3), (2, 2, 2, 2, 2), (2,)]),
    Op("conv3d", lambda m, x, w: F(m).conv3d(x, w, stride=(2, 1, 2), padding=(1, 0, 1),
                                             dilation=(1, 2, 1), groups=2),
       [(1, 4, 3, 4, 4), (2, 2, 2, 2, 1)], id="conv3d-strided-groups"),
    Op("conv3d", lambda m, x, w: F(m).conv3d(x, w, padding="same"),
       [(2, 3, 3, 3), (1, 2, 2, 1, 3)], id="conv3d-unbatched-same"),
    Op("conv3d", lambda m, x, w: F(m).conv3d(x, w, padding=2, stride=2),
       [(1, 1, 2, 2, 3), (2, 1, 2, 2, 2)], id="conv3d-widepad"),
    Op("conv_transpose3d", lambda m, x, w, b: F(m).conv_transpose3d(
        x, w, b, stride=2, padding=1, output_padding=1), [(1, 2, 2, 2, 2), (2, 2, 2, 2, 2), (2,)]),
    Op("max_pool3d", lambda m, x: F(m).max_pool3d(x, 2), [(1, 2, 4, 4, 4)], domain=_distinct),
    Op("max_pool3d", lambda m, x: F(m).max_pool3d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                  return_indices=True),
       [(2, 3, 4, 5)], domain=_distinct, id="max_pool3d-unbatched-pad-ceil-indices"),
    Op("max_pool3d", lambda m, x: F(m).max_pool3d(x, (2, 1, 2), stride=1, dilation=2),
       [(1, 1, 3, 4, 4)], domain=_distinct, id="max_pool3d-dilated-overlap"),
    Op("max_pool3d_with_indices", lambda m, x: F(m).max_pool3d_with_indices(x, (1, 2, 2)),
       [(1, 2, 2, 3, 4)], domain=_distinct),
    Op("avg_pool3d", lambda m, x: F(m).avg_pool3d(x, 2), [(1, 2, 4, 4, 4)]),
    Op("avg_pool3d", lambda m, x: F(m).avg_pool3d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                  count_include_pad=False),
       [(1, 1, 3, 4, 5)], id="avg_pool3d-pad-ceil"),
    Op("avg_pool3d", lambda m, x: F(m).avg_pool3d(x, 2, stride=1, divisor_override=3),
       [(2, 3, 3, 3)], id="avg_pool3d-unbatched-divisor"),
    Op("adaptive_avg_pool3d", lambda m, x: F(m).adaptive_avg_pool3d(x, (2, 3, 2)),
       [(1, 2, 3, 5, 4)]),
    Op("adaptive_avg_pool3d", lambda m, x: F(m).adaptive_avg_pool3d(x, 1), [(2, 2, 2, 2, 2)],
       id="adaptive_avg_pool3d-global"),
]
ENTRIES += [
    Op("pad", lambda m, x: F(m).pad(x, (1, 2, 0, 1, 2, 1), mode="reflect"), [(1, 2, 3, 2, 3)],
       id="pad-reflect3d"),
    Op("pad", lambda m, x: F(m).pad(x, (1, 0, 2, 1, 0, 1), mode="replicate"), [(2, 2, 2, 3)],
       id="pad-replicate3d-unbatched"),
    Op("pad", lambda m, x: F(m).pad(x, (1, 1, 0, 1, 1, 0), mode="circular"), [(1, 1, 2, 2, 3)],
       id="pad-circular3d"),
]
