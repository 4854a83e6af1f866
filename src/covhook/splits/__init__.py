"""``covhook split``: the runner (:mod:`.runner`) and the pytest side each split loads
(:mod:`.plugin`).
"""
