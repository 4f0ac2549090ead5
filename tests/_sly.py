"""Builders of Supervisely annotation JSON shared by the format tests."""

from __future__ import annotations

H, W = 20, 30


def ann(objects, h=H, w=W):
    """An annotation dict of an h×w image holding ``objects``."""
    return {"size": {"height": h, "width": w}, "tags": [], "objects": objects}


def obj(gtype, cls="c", **payload):
    """One object of class ``cls`` with geometry type ``gtype``."""
    return {"classTitle": cls, "geometryType": gtype, "tags": [], **payload}


def pts(exterior, interior=()):
    """A ``points`` payload."""
    return {"exterior": exterior, "interior": list(interior)}
