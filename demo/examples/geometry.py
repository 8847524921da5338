"""Plane geometry for the layout engine: vectors and axis-aligned boxes."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Vector:
    """A point or a displacement in the plane."""

    x: float
    y: float

    def __add__(self, other: Vector) -> Vector:
        return Vector(self.x + other.x, self.y + other.y)

    def dot(self, other: Vector) -> float:
        return self.x * other.x + self.y * other.y

    def cross(self, other: Vector) -> float:
        return self.x * other.y - self.y * other.x

    def length(self) -> float:
        return math.hypot(self.x, self.y)


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle, from its lower-left to its upper-right corner."""

    low: Vector
    high: Vector

    @property
    def width(self) -> float:
        return self.high.x - self.low.x

    @property
    def height(self) -> float:
        return self.high.y - self.low.y

    def area(self) -> float:
        return self.width * self.height

    def contains(self, point: Vector) -> bool:
        return self.low.x <= point.x <= self.high.x and self.low.y <= point.y <= self.high.y


def bounding_box(points: list[Vector]) -> Box:
    """The smallest box that holds every point."""
    xs = [point.x for point in points]
    ys = [point.y for point in points]
    print("bounding box of", len(points), "points")
    return Box(Vector(min(xs), min(ys)), Vector(max(xs), max(ys)))
