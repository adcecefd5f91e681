"""Hunan's cities and prefectures (市州) by code, as the public pages and the admin name them
(the credit evaluation's jurisdiction, Hunan-Credit Art. 21: the province and the 市州)."""

from __future__ import annotations

REGIONS = [
    ("4301", "长沙市"),
    ("4302", "株洲市"),
    ("4303", "湘潭市"),
    ("4304", "衡阳市"),
    ("4305", "邵阳市"),
    ("4306", "岳阳市"),
    ("4307", "常德市"),
    ("4308", "张家界市"),
    ("4309", "益阳市"),
    ("4310", "郴州市"),
    ("4311", "永州市"),
    ("4312", "怀化市"),
    ("4313", "娄底市"),
    ("4331", "湘西州"),
]
CITY_ZH = dict(REGIONS)


def city_zh(code: str) -> str:
    """The Chinese name of a city code (its first 4 digits), else the code itself."""
    return CITY_ZH.get(code[:4], code)
