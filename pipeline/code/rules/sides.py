"""The words that name a side of the body (laterality), read by the specificity and neoplasm rules."""

SIDES = {"right": ("right",), "left": ("left",), "bilateral": ("bilateral", "both")}
SIDE_WORDS = frozenset(SIDES)
