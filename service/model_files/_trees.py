"""The shape of one decision tree given as child arrays, checked with numpy."""

from __future__ import annotations

import numpy as np

from service.model_files._common import Malformed


def tree_depth(
    left: np.ndarray, right: np.ndarray, *, max_depth: int
) -> tuple[int, np.ndarray]:
    """The depth of the tree rooted at node 0, and which nodes it reaches.

    ``left[i]`` and ``right[i]`` are the children of node ``i``, both -1 at a
    leaf. Raises :class:`Malformed` unless every child is a node other than
    the root, no node is the child of two splits (which rules out cycles and
    shared subtrees) and the tree is at most ``max_depth`` splits deep.

    Examples
    --------
    >>> depth, reached = tree_depth(
    ...     np.array([1, -1, -1]), np.array([2, -1, -1]), max_depth=8
    ... )
    >>> depth, reached.tolist()
    (1, [True, True, True])
    >>> tree_depth(np.array([1, 0]), np.array([1, -1]), max_depth=8)
    Traceback (most recent call last):
    ...
    service.model_files._common.Malformed: node 1 has one child only
    """
    n_nodes = len(left)
    split = left != -1
    lonely = np.flatnonzero(split != (right != -1))
    if lonely.size:
        raise Malformed(f"node {lonely[0]} has one child only")
    for side, children in (("left", left), ("right", right)):
        wrong = np.flatnonzero(split & ((children < 1) | (children >= n_nodes)))
        if wrong.size:
            node = wrong[0]
            raise Malformed(
                f"node {node}: its {side} child {children[node]} is not a node "
                f"of the tree (1..{n_nodes - 1})"
            )
    counts = np.bincount(np.concatenate([left[split], right[split]]), minlength=1)
    shared = np.flatnonzero(counts > 1)
    if shared.size:
        raise Malformed(
            f"node {shared[0]} is the child of more than one split "
            "(a cycle or a shared subtree)"
        )
    return _breadth_first(left, right, split, max_depth)


def _breadth_first(left, right, split, max_depth: int) -> tuple[int, np.ndarray]:
    # No node has two parents and the root none, so no node comes twice.
    reached = np.zeros(len(left), dtype=bool)
    reached[0] = True
    frontier, depth = np.zeros(1, dtype=np.int64), 0
    while True:
        frontier = frontier[split[frontier]]
        if not frontier.size:
            return depth, reached
        depth += 1
        if depth > max_depth:
            raise Malformed(
                f"it is more than {max_depth} splits deep, this service's limit"
            )
        frontier = np.concatenate([left[frontier], right[frontier]])
        reached[frontier] = True
