"""Reports of a run: the terminal table (:mod:`.text`), JSON (:mod:`.json`), JUnit XML
(:mod:`.junit`) and a self-contained HTML page (:mod:`.html`)."""
