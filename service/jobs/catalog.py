"""The methods the service offers: the registry's, less those that do not import."""

from __future__ import annotations

import logging

from featimp.methods import MethodSpec, all_methods

log = logging.getLogger("service.jobs")


def available_methods() -> list[MethodSpec]:
    """The registered methods whose code imports (optional extras may be missing)."""
    available = []
    for spec in all_methods():
        try:
            spec.selector_class()
        except ImportError as exc:
            log.warning("method %s is not available: %s", spec.name, exc)
            continue
        available.append(spec)
    return available


def method_catalog() -> list[dict]:
    """Every available method with its tasks and parameters."""
    return [spec.to_dict() for spec in available_methods()]


def method_names() -> list[str]:
    return [spec.name for spec in available_methods()]


def featimp_version() -> str:
    import featimp

    return featimp.__version__
