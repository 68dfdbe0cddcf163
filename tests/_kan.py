"""Tiny KAN settings shared by the tests of featimp/kan/."""

TINY = {
    "grid_size": 3,
    "hidden_layer_sizes": [3],
    "max_iter": 8,
    "batch_size": 64,
    "learning_rate": 0.1,
    "random_state": 0,
}
TINY_SELECTOR = {**TINY, "cv": 2, "n_seeds": 1}
#: Every importance variant of a KAN.
METHODS = ("l1", "l2", "si", "ko", "coef_l1", "coef_l2")
