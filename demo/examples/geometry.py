"""Plane geometry for the layout engine: vectors, axis-aligned boxes and simple polygons."""

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


class Polygon:
    """A simple polygon, its vertices in counter-clockwise order."""

    def __init__(self, vertices: list[Vector]) -> None:
        if len(vertices) < 3:
            raise ValueError(f"a polygon needs at least 3 vertices, got {len(vertices)}")
        self.vertices = vertices

    def edges(self):
        for index, start in enumerate(self.vertices):
            yield start, self.vertices[(index + 1) % len(self.vertices)]

    def perimeter(self) -> float:
        return sum((end - start).length() for start, end in self.edges())

    def area(self) -> float:
        # The shoelace formula: half the sum of the cross products of consecutive vertices.
        return sum(start.cross(end) for start, end in self.edges()) / 2

    def bounding_box(self) -> Box:
        xs = [vertex.x for vertex in self.vertices]
        ys = [vertex.y for vertex in self.vertices]
        print("bounding box of", len(self.vertices), "vertices")
        return Box(Vector(min(xs), min(ys)), Vector(max(xs), max(ys)))


def regular_polygon(sides: int, radius: float, center: Vector = Vector(0.0, 0.0)) -> Polygon:
    """The regular polygon with ``sides`` vertices on the circle of ``radius`` around ``center``."""
    step = 2 * math.pi / sides
    return Polygon([center + Vector(radius * math.cos(i * step), radius * math.sin(i * step)) for i in range(sides)])
