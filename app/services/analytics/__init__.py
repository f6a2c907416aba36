"""Where help is missing: the implementation pipeline, unserved needs, supply vs demand, funding.

Every number of the analytics API, the `/gaps` page, the State page's pipeline, the exports and
`upr-match report` comes from this package, so they are the same everywhere:

- `slices`: the slice (States, regional groups, LDC/SIDS, themes, SDGs, cycles) as SQL conditions;
- `pipeline`: supported recommendations -> requested -> under way -> done, and the funding context;
- `needs`: unserved needs, and supply vs demand by theme;
- `scores`: each need's best match score, stored when the need is scored;
- `funding`: the import of the UN INFO funding figures;
- `reference`: LDC/SIDS membership and the theme -> SDG links (reviewed files);
- `cache`: answers kept per process until the data they count changes.

Only what the caller may see is counted (`services/access.py`).
"""
